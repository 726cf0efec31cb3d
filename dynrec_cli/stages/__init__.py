"""The pipeline's stages, in order. Each reads upstream folders and writes its own."""

from dynrec_cli.stages.base import Stage, StageContext
from dynrec_cli.stages.capture import CaptureStage
from dynrec_cli.stages.evaluate import EvaluateStage
from dynrec_cli.stages.finetune import FinetuneStage
from dynrec_cli.stages.prepare import PrepareStage
from dynrec_cli.stages.pretrain import PretrainStage
from dynrec_cli.stages.rank import RankStage

STAGES: dict[str, Stage] = {
    stage.NAME: stage
    for stage in (PrepareStage(), PretrainStage(), FinetuneStage(), CaptureStage(), RankStage(), EvaluateStage())
}

__all__ = ["STAGES", "Stage", "StageContext"]
