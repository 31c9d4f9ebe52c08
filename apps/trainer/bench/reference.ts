/**
 * Runs the PyTorch reference benchmark (reference/pytorch_reference.py) with the first Python that
 * imports torch, so that `bench:train` figures can be read against what PyTorch reaches on the same
 * machine. Arguments after `--` go to the Python script (`--models`, `--rounds`, `--threads`).
 * Set PYTHON to choose the interpreter.
 */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./reference/pytorch_reference.py", import.meta.url));

// Debian's python3-torch installs into the system Python, which a pyenv or venv python3 on PATH
// does not see, so /usr/bin/python3 is tried after the one on PATH.
const CANDIDATES = process.env.PYTHON ? [process.env.PYTHON] : ["python3", "/usr/bin/python3"];

function findPythonWithTorch(): string | undefined {
  return CANDIDATES.find((python) => {
    const probe = spawnSync(python, ["-c", "import torch"], { stdio: "ignore" });
    return probe.status === 0;
  });
}

const python = findPythonWithTorch();
if (python === undefined) {
  console.error(
    `PyTorch was not found in ${CANDIDATES.join(" or ")}. Install it (Debian: ` +
      "`apt-get install python3-torch libopenblas0-pthread`; elsewhere: `pip install torch`), or " +
      "set PYTHON to an interpreter that has it.",
  );
  process.exit(1);
}

const child = spawn(python, [SCRIPT, ...process.argv.slice(2)], { stdio: "inherit" });
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
