import { gql } from "urql";

// Every GraphQL document the dashboard sends, so a schema change is checked in one file.

export const RUN_ROW_FIELDS = gql`
  fragment RunRowFields on Run {
    id
    name
    status
    sweepId
    sweep {
      id
      name
    }
    hyperparameters
    config
    architecture
    phase
    epoch
    step
    totalSteps
    backend
    createdAt
    startedAt
    finishedAt
    durationSeconds
    bestValAccuracy
    testAccuracy
    testLoss
  }
`;

export const VIEWER_QUERY = gql`
  query Viewer {
    viewer {
      role
      label
    }
  }
`;

export const RUNS_QUERY = gql`
  query Runs($first: Int, $after: String, $filter: RunFilter, $sort: RunSort) {
    runs(first: $first, after: $after, filter: $filter, sort: $sort) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          ...RunRowFields
        }
      }
    }
  }
  ${RUN_ROW_FIELDS}
`;

export const RUN_QUERY = gql`
  query Run($id: ID!) {
    run(id: $id) {
      ...RunRowFields
      dataset
      seed
      attempt
      maxAttempts
      versions
      heartbeatAt
      worker {
        id
        name
        host
      }
      confusionMatrix
      misclassified {
        index
        label
        predicted
      }
      error
      checkpoints {
        id
        kind
        phase
        epoch
        step
        sizeBytes
        sha256
        createdAt
        url
      }
      lastMetrics
    }
  }
  ${RUN_ROW_FIELDS}
`;

export const RUN_UPDATED_SUBSCRIPTION = gql`
  subscription RunUpdated($runIds: [ID!], $sweepId: ID) {
    runUpdated(runIds: $runIds, sweepId: $sweepId) {
      ...RunRowFields
    }
  }
  ${RUN_ROW_FIELDS}
`;

export const METRIC_SERIES_QUERY = gql`
  query MetricSeries($runIds: [ID!]!, $keys: [String!]!, $maxPoints: Int) {
    metricSeries(runIds: $runIds, keys: $keys, maxPoints: $maxPoints) {
      runId
      key
      phase
      downsampled
      packed {
        length
        steps
        epochs
        phases
        values
        wallTimes
      }
    }
  }
`;

export const METRICS_LOGGED_SUBSCRIPTION = gql`
  subscription MetricsLogged($runIds: [ID!]!) {
    metricsLogged(runIds: $runIds) {
      runId
      keys
      points {
        runId
        key
        step
        epoch
        phase
        value
        wallTime
      }
    }
  }
`;

export const COMPARE_QUERY = gql`
  query CompareRuns($ids: [ID!]!) {
    compareRuns(ids: $ids) {
      runs {
        ...RunRowFields
      }
      differing {
        name
        values
      }
    }
  }
  ${RUN_ROW_FIELDS}
`;

const SWEEP_ROW_FIELDS = gql`
  fragment SweepRowFields on Sweep {
    id
    name
    method
    metric
    direction
    runBudget
    concurrency
    status
    createdAt
    finishedAt
    runCounts {
      queued
      running
      succeeded
      failed
      cancelled
      pruned
      total
    }
    bestRun {
      ...RunRowFields
    }
  }
  ${RUN_ROW_FIELDS}
`;

export const SWEEPS_QUERY = gql`
  query Sweeps($first: Int, $after: String) {
    sweeps(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...SweepRowFields
        }
      }
    }
  }
  ${SWEEP_ROW_FIELDS}
`;

export const SWEEP_QUERY = gql`
  query Sweep($id: ID!, $first: Int) {
    sweep(id: $id) {
      ...SweepRowFields
      searchSpace
      baseConfig
      runs(first: $first) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            ...RunRowFields
          }
        }
      }
    }
  }
  ${SWEEP_ROW_FIELDS}
`;

export const SWEEP_UPDATED_SUBSCRIPTION = gql`
  subscription SweepUpdated($id: ID) {
    sweepUpdated(id: $id) {
      ...SweepRowFields
    }
  }
  ${SWEEP_ROW_FIELDS}
`;

export const LAUNCH_FORM_QUERY = gql`
  query LaunchForm {
    presets
    hyperparameterSchema
  }
`;

export const LAUNCH_SWEEP_MUTATION = gql`
  mutation LaunchSweep($spec: SweepSpec!) {
    launchSweep(spec: $spec) {
      id
      name
    }
  }
`;

export const CANCEL_SWEEP_MUTATION = gql`
  mutation CancelSweep($id: ID!) {
    cancelSweep(id: $id) {
      id
      status
    }
  }
`;

export const CANCEL_RUN_MUTATION = gql`
  mutation CancelRun($id: ID!) {
    cancelRun(id: $id) {
      ...RunRowFields
    }
  }
  ${RUN_ROW_FIELDS}
`;

export const RETRY_RUN_MUTATION = gql`
  mutation RetryRun($id: ID!) {
    retryRun(id: $id) {
      ...RunRowFields
    }
  }
  ${RUN_ROW_FIELDS}
`;

const MODEL_VERSION_FIELDS = gql`
  fragment ModelVersionFields on ModelVersion {
    id
    name
    version
    metrics
    createdAt
    createdBy
    aliases
    run {
      id
      name
      testAccuracy
      sweepId
    }
  }
`;

export const MODELS_QUERY = gql`
  query Models {
    models {
      name
      versions {
        ...ModelVersionFields
      }
      aliases {
        modelName
        alias
        movedBy
        movedAt
        version {
          id
          version
        }
      }
    }
  }
  ${MODEL_VERSION_FIELDS}
`;

export const ALIAS_HISTORY_QUERY = gql`
  query AliasHistory($modelName: String!, $alias: String!) {
    aliasHistory(modelName: $modelName, alias: $alias) {
      modelName
      alias
      movedBy
      movedAt
      fromVersion {
        id
        version
      }
      toVersion {
        id
        version
      }
    }
  }
`;

export const REGISTER_MODEL_MUTATION = gql`
  mutation RegisterModelVersion($runId: ID!, $name: String) {
    registerModelVersion(runId: $runId, name: $name) {
      ...ModelVersionFields
    }
  }
  ${MODEL_VERSION_FIELDS}
`;

export const PROMOTE_MUTATION = gql`
  mutation Promote($versionId: ID!, $alias: String!) {
    promote(versionId: $versionId, alias: $alias) {
      modelName
      alias
      movedBy
      movedAt
      version {
        id
        version
      }
    }
  }
`;

export const PREDICT_MUTATION = gql`
  mutation Predict($pixels: [Float!], $png: String, $modelName: String, $alias: String) {
    predict(pixels: $pixels, png: $png, modelName: $modelName, alias: $alias) {
      label
      probabilities
      modelVersion {
        id
        name
        version
      }
    }
  }
`;
