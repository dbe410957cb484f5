"""What a worker registers: every workflow class of caseflow."""

from workflows.case import CaseWorkflow

WORKFLOWS: list[type] = [CaseWorkflow]
