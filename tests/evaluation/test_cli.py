import json

from exemplar_vc.cli.main import main


def test_eval_command_writes_json_and_prints_table(clip_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(["eval", str(clip_dir), "--protocol", "first-frame", "--methods", "global_transfer,flow_propagation", "--metrics", "psnr,cdc,colorfulness_ratio", "--json", str(out), "-q"])
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["clips"][0]["clip"] == "pan"
    assert "| first-frame | global transfer |" in capsys.readouterr().out


def test_eval_command_rejects_bad_lists_in_one_line(clip_dir, capsys):
    assert main(["eval", str(clip_dir), "--methods", "pipeline,magic"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("exemplar-vc: error: expected --methods") and err.count("\n") == 1


def test_retrieval_needs_a_bank(clip_dir, capsys):
    assert main(["eval", str(clip_dir), "--protocol", "retrieval"]) == 2
    assert "--bank" in capsys.readouterr().err


def test_eval_shows_progress_bars_unless_quiet(clip_dir, capsys):
    """The pipeline's runs show its bars (stage 1, colorizing) on stderr; -q silences them
    and the per-clip lines."""
    args = ["eval", str(clip_dir), "--protocol", "first-frame", "--methods", "pipeline", "--metrics", "psnr", "--working-size", "32", "--device", "cpu", "--max-frames", "3"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "eval: pan" in err and "stage 1" in err and "colorizing" in err and "3/3" in err
    assert main([*args, "-q"]) == 0
    assert capsys.readouterr().err == ""
