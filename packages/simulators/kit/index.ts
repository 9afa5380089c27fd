export * from "./counters";
export * from "./effects";
export * from "./faults";
export * from "./random";
export * from "./server";
export * from "./token-bucket";
export * from "./listing-drop";
