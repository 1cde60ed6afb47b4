"""Public names of the evaluation package and the eval command must not disappear."""

import pytest

import exemplar_vc.evaluation as evaluation

PUBLIC = ["evaluate", "evaluate_clip", "PROTOCOLS", "METHODS", "METRICS", "global_transfer", "flow_propagation", "make_gray", "exemplar_frames", "markdown_report", "EvalReport", "ClipScorer"]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_exists(name):
    assert name in evaluation.__all__ and hasattr(evaluation, name)


def test_every_name_in_all_exists():
    for name in evaluation.__all__:
        assert hasattr(evaluation, name), name


def test_protocols_and_methods():
    assert evaluation.PROTOCOLS == ("first-frame", "every-50", "retrieval")
    assert evaluation.METHODS == ("pipeline", "global_transfer", "flow_propagation")


def test_eval_subcommand_is_registered():
    from exemplar_vc.cli.main import build_parser

    assert "eval" in build_parser().format_help()
