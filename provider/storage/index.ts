export * from "./naming";
export * from "./snapshots";
export * from "./thin";
