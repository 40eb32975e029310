"""Out-of-range command-line numbers are one-line argparse errors (exit 2), never a run."""

from __future__ import annotations

import pytest

from symderiv.cli import main

EXAMPLE = "examples/softmax-bob.md"


@pytest.mark.parametrize(
    "args, words",
    [
        pytest.param(["--timeout", "0"], "--timeout: '0' is not a number of seconds", id="timeout-zero"),
        pytest.param(["--timeout", "-5"], "--timeout: '-5' is not a number of seconds", id="timeout-negative"),
        pytest.param(["--timeout", "nan"], "--timeout: 'nan' is not", id="timeout-nan"),
        pytest.param(["--timeout", "1e9"], "--timeout: '1e9' is not", id="timeout-huge"),
        pytest.param(["--timeout", "soon"], "--timeout: 'soon' is not", id="timeout-word"),
        pytest.param(["--jobs", "0"], "--jobs: '0' is not a number of processes", id="jobs-zero"),
        pytest.param(["--jobs", "2.5"], "--jobs: '2.5' is not", id="jobs-fraction"),
        pytest.param(["--layout-credit", "7"], "--layout-credit: '7' is not a share from 0 to 1", id="credit-above-1"),
        pytest.param(["--layout-credit", "-0.1"], "--layout-credit: '-0.1' is not", id="credit-negative"),
    ],
)
def test_an_out_of_range_number_is_refused_in_one_line(capsys, args, words):
    with pytest.raises(SystemExit) as exit_info:
        main(["grade", "--key", "softmax-2layer", *args, EXAMPLE])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err
