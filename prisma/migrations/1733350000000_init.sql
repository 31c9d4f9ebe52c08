-- Up Migration

CREATE TYPE "SearchMethod" AS ENUM ('grid', 'random');
CREATE TYPE "MetricDirection" AS ENUM ('minimize', 'maximize');
CREATE TYPE "SweepStatus" AS ENUM ('running', 'succeeded', 'failed', 'cancelled');
CREATE TYPE "RunStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'pruned');
CREATE TYPE "Phase" AS ENUM ('train', 'finetune');
CREATE TYPE "ArtifactKind" AS ENUM ('checkpoint', 'model', 'other');
CREATE TYPE "TokenRole" AS ENUM ('viewer', 'editor', 'worker');

CREATE TABLE sweep (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  method "SearchMethod" NOT NULL,
  search_space jsonb NOT NULL,
  base_config jsonb NOT NULL,
  metric text NOT NULL,
  direction "MetricDirection" NOT NULL,
  run_budget integer NOT NULL CHECK (run_budget > 0),
  concurrency integer NOT NULL CHECK (concurrency > 0),
  status "SweepStatus" NOT NULL DEFAULT 'running',
  created_by text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  finished_at timestamptz(3)
);
CREATE INDEX sweep_created_at_idx ON sweep (created_at DESC);

CREATE TABLE worker (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  host text NOT NULL,
  pid integer,
  backend text,
  versions jsonb,
  started_at timestamptz(3) NOT NULL DEFAULT now(),
  last_heartbeat_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE run (
  id uuid PRIMARY KEY,
  sweep_id uuid REFERENCES sweep (id) ON DELETE CASCADE ON UPDATE CASCADE,
  sweep_index integer,
  name text NOT NULL,
  status "RunStatus" NOT NULL DEFAULT 'queued',
  hyperparameters jsonb NOT NULL,
  config jsonb NOT NULL,
  architecture text NOT NULL,
  dataset text NOT NULL,
  seed integer NOT NULL,
  phase "Phase",
  epoch integer NOT NULL DEFAULT 0,
  step integer NOT NULL DEFAULT 0,
  total_steps integer NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 3,
  worker_id uuid REFERENCES worker (id) ON DELETE SET NULL ON UPDATE CASCADE,
  backend text,
  versions jsonb,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  started_at timestamptz(3),
  heartbeat_at timestamptz(3),
  finished_at timestamptz(3),
  duration_seconds double precision,
  best_val_accuracy double precision,
  test_loss double precision,
  test_accuracy double precision,
  confusion_matrix jsonb,
  misclassified jsonb,
  error text
);
CREATE INDEX run_sweep_id_status_idx ON run (sweep_id, status);
CREATE INDEX run_status_created_at_idx ON run (status, created_at);
CREATE INDEX run_created_at_idx ON run (created_at DESC);
CREATE INDEX run_test_accuracy_idx ON run (test_accuracy);

CREATE TABLE metric_point (
  id bigserial PRIMARY KEY,
  run_id uuid NOT NULL REFERENCES run (id) ON DELETE CASCADE ON UPDATE CASCADE,
  phase "Phase" NOT NULL,
  key text NOT NULL,
  step integer NOT NULL,
  epoch integer NOT NULL,
  value double precision NOT NULL,
  wall_time timestamptz(3) NOT NULL
);
CREATE UNIQUE INDEX metric_point_run_id_phase_key_step_key ON metric_point (run_id, phase, key, step);
CREATE INDEX metric_point_run_id_key_step_idx ON metric_point (run_id, key, step);

CREATE TABLE artifact (
  id uuid PRIMARY KEY,
  run_id uuid NOT NULL REFERENCES run (id) ON DELETE CASCADE ON UPDATE CASCADE,
  kind "ArtifactKind" NOT NULL,
  phase "Phase",
  epoch integer,
  step integer,
  path text NOT NULL,
  size_bytes bigint NOT NULL,
  sha256 text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX artifact_run_id_path_key ON artifact (run_id, path);
CREATE INDEX artifact_run_id_kind_step_idx ON artifact (run_id, kind, step);

CREATE TABLE model_version (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  version integer NOT NULL,
  run_id uuid NOT NULL REFERENCES run (id) ON DELETE RESTRICT ON UPDATE CASCADE,
  metrics jsonb NOT NULL,
  artifact_path text NOT NULL,
  created_by text,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX model_version_name_version_key ON model_version (name, version);

CREATE TABLE model_alias (
  id uuid PRIMARY KEY,
  model_name text NOT NULL,
  alias text NOT NULL,
  version_id uuid NOT NULL REFERENCES model_version (id) ON DELETE RESTRICT ON UPDATE CASCADE,
  moved_by text,
  moved_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX model_alias_model_name_alias_key ON model_alias (model_name, alias);

CREATE TABLE model_alias_event (
  id uuid PRIMARY KEY,
  model_name text NOT NULL,
  alias text NOT NULL,
  from_version_id uuid,
  to_version_id uuid NOT NULL,
  moved_by text,
  moved_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX model_alias_event_model_name_alias_moved_at_idx
  ON model_alias_event (model_name, alias, moved_at DESC);

CREATE TABLE api_token (
  id uuid PRIMARY KEY,
  label text NOT NULL,
  role "TokenRole" NOT NULL,
  token_hash text NOT NULL UNIQUE,
  prefix text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  last_used_at timestamptz(3),
  revoked_at timestamptz(3)
);

-- Down Migration

DROP TABLE api_token, model_alias_event, model_alias, model_version, artifact, metric_point, run, worker, sweep;
DROP TYPE "TokenRole", "ArtifactKind", "Phase", "RunStatus", "SweepStatus", "MetricDirection", "SearchMethod";
