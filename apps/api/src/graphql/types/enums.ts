import { db } from "@convnet/shared/prisma";
import { registerEnumType } from "type-graphql";

registerEnumType(db.RunStatus, { name: "RunStatus" });
registerEnumType(db.SweepStatus, { name: "SweepStatus" });
registerEnumType(db.SearchMethod, { name: "SearchMethod" });
registerEnumType(db.MetricDirection, { name: "MetricDirection" });
registerEnumType(db.Phase, { name: "Phase" });
registerEnumType(db.TokenRole, { name: "TokenRole" });

export const SortDirection = { asc: "asc", desc: "desc" } as const;
export type SortDirection = (typeof SortDirection)[keyof typeof SortDirection];
registerEnumType(SortDirection, { name: "SortDirection" });

export const RunStatus = db.RunStatus;
export const SweepStatus = db.SweepStatus;
export const SearchMethod = db.SearchMethod;
export const MetricDirection = db.MetricDirection;
export const Phase = db.Phase;
export const TokenRole = db.TokenRole;
