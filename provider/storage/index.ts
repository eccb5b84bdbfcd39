export * from "./naming";
export * from "./snapshots";
