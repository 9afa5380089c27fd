import { inventoryTable } from "../packages/core/resources";

export const table = new sst.aws.Dynamo(inventoryTable.name, {
  fields: inventoryTable.fields,
  primaryIndex: inventoryTable.primaryIndex,
  globalIndexes: inventoryTable.globalIndexes,
  ttl: inventoryTable.ttlAttribute,
  stream: inventoryTable.stream,
  deletionProtection: $app.stage === "production",
});
