/**
 * @module
 * The list of route modules, in registration order. A new feature adds its module here.
 */
import type { Elysia } from "elysia";
import type { ServerContext } from "../context.ts";
import { adminRoutes } from "./admin.ts";
import { backupRoutes } from "./backup.ts";
import { batchRoutes } from "./batch.ts";
import { checkRoutes } from "./check.ts";
import { indexRoutes } from "./indexes.ts";
import { kvRoutes } from "./kv.ts";
import { queryRoutes } from "./query.ts";

// Elysia's generics differ per module; the app only needs `.use()`.
export type RouteModule = (ctx: ServerContext) => Elysia<any, any, any, any, any, any, any>;

export const ROUTE_MODULES: RouteModule[] = [adminRoutes, kvRoutes, batchRoutes, queryRoutes, indexRoutes, backupRoutes, checkRoutes];
