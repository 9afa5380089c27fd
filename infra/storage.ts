import { inventoryTable } from "../packages/core/resources";

export const table = new sst.aws.Dynamo(inventoryTable.name, {
  fields: inventoryTable.fields,
  primaryIndex: inventoryTable.primaryIndex,
  globalIndexes: inventoryTable.globalIndexes,
  ttl: inventoryTable.ttlAttribute,
  deletionProtection: $app.stage === "production",
});
