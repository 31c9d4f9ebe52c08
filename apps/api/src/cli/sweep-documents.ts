/** The GraphQL documents `npm run sweep` sends. */
export const LAUNCH_SWEEP = `mutation Launch($spec: SweepSpec!) { launchSweep(spec: $spec) { id name } }`;
export const FOLLOW_SWEEP = `query Follow($id: ID!) {
  sweep(id: $id) {
    id name status metric direction
    runCounts { queued running succeeded failed cancelled pruned total }
    runs(first: 500) { edges { node { id name status epoch step totalSteps attempt hyperparameters lastMetrics testAccuracy error } } }
    bestRun { id name hyperparameters testAccuracy bestValAccuracy lastMetrics }
  }
}`;
