"""A model.json naming a class outside dynrec's models (it could run any code)."""
import json
from pathlib import Path

from tests.bad_inputs.case import rehash, run_case


def damage(run: Path) -> None:
    spec_path = run / "finetune" / "model.json"
    spec = json.loads(spec_path.read_text())
    spec["target"] = "os.system"
    spec_path.write_text(json.dumps(spec))
    rehash(run / "finetune", "model.json")


CASE = run_case(["evaluate", "run_dir={run}", "--force"], ["finetune/model.json", "os.system", "not a dynrec model"],
                damage)
