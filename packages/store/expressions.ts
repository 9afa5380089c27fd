/**
 * Builds UpdateItem expressions from plain objects. Every attribute goes through a `#name` placeholder
 * (many of ours, like `name`, `state` or `public`, are DynamoDB reserved words) and a `:name` value, so
 * condition expressions can use the same `#x`/`:x` spelling.
 */
export interface UpdateParts {
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

export function updateExpression(changes: {
  /** Attributes to set; undefined values are removed instead. */
  set: Record<string, unknown>;
  /** Attributes set only when the item does not have them yet. */
  setIfAbsent?: Record<string, unknown>;
  /** Numbers to add to (an absent attribute counts as 0). */
  add?: Record<string, number>;
  /** Further attributes to remove. */
  remove?: readonly string[];
  /** Names and values the condition expression uses beyond the ones above. */
  conditionNames?: readonly string[];
  conditionValues?: Record<string, unknown>;
}): UpdateParts {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ...changes.conditionValues };
  const sets: string[] = [];
  const removes: string[] = [];
  const adds: string[] = [];
  for (const name of changes.conditionNames ?? []) names[`#${name}`] = name;
  for (const [name, value] of Object.entries(changes.set)) {
    names[`#${name}`] = name;
    if (value === undefined) {
      removes.push(`#${name}`);
    } else {
      sets.push(`#${name} = :${name}`);
      values[`:${name}`] = value;
    }
  }
  for (const [name, value] of Object.entries(changes.setIfAbsent ?? {})) {
    names[`#${name}`] = name;
    sets.push(`#${name} = if_not_exists(#${name}, :${name})`);
    values[`:${name}`] = value;
  }
  for (const [name, value] of Object.entries(changes.add ?? {})) {
    names[`#${name}`] = name;
    adds.push(`#${name} :${name}`);
    values[`:${name}`] = value;
  }
  for (const name of changes.remove ?? []) {
    names[`#${name}`] = name;
    removes.push(`#${name}`);
  }
  const clauses = [
    sets.length ? `SET ${sets.join(", ")}` : "",
    adds.length ? `ADD ${adds.join(", ")}` : "",
    removes.length ? `REMOVE ${removes.join(", ")}` : "",
  ];
  return {
    UpdateExpression: clauses.filter(Boolean).join(" "),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

