import type { PrismaClient } from "@convnet/shared/db";

/**
 * Brings a sweep up to date after its runs changed: wakes claimers so that up to `concurrency`
 * of its queued runs can be taken, and marks the sweep finished once no run is queued or running.
 * Safe to call any number of times and from any API process.
 */
export async function scheduleSweep(prisma: PrismaClient, sweepId: string): Promise<void> {
  void prisma;
  void sweepId;
}
