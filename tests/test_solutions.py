"""The %%solution cell magic (ttlib.course.solutions): runs the cell, hides its output unless asked."""
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "ttlib.course.solutions")
    yield ip
    InteractiveShell.clear_instance()


def test_hidden_unless_show_solutions(shell):
    shell.user_ns["SHOW_SOLUTIONS"] = False
    with capture_output() as seen:
        shell.run_cell("%%solution\nanswer = 6 * 7\nprint('the answer is', answer)\nanswer")
    assert shell.user_ns["answer"] == 42                      # it ran ...
    assert "the answer is" not in seen.stdout and not seen.outputs   # ... and showed nothing
    shell.user_ns["SHOW_SOLUTIONS"] = True
    with capture_output() as seen:
        shell.run_cell("%%solution\nprint('the answer is', answer)")
    assert "the answer is 42" in seen.stdout


def test_show_on_the_first_line_and_errors_still_fail(shell):
    shell.user_ns["SHOW_SOLUTIONS"] = False
    with capture_output() as seen:
        shell.run_cell("%%solution show\nprint('shown')")
    assert "shown" in seen.stdout
    result = shell.run_cell("%%solution\nraise ValueError('a broken solution')")
    assert not result.success and isinstance(result.error_in_exec, ValueError)
