"""What a worker registers: every workflow class of caseflow."""

from workflows.case import CaseWorkflow
from workflows.recognition import RecognitionWorkflow

WORKFLOWS: list[type] = [CaseWorkflow, RecognitionWorkflow]
