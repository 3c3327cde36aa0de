"""Tests of scripts/check-skips (run by scripts/test before the suite: python3 scripts/test_check_skips.py)."""
import contextlib
import importlib.machinery
import io
import importlib.util
import os
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
loader = importlib.machinery.SourceFileLoader("check_skips", os.path.join(HERE, "check-skips"))
spec = importlib.util.spec_from_loader("check_skips", loader)
check = importlib.util.module_from_spec(spec)
loader.exec_module(check)

LOG = """\
Test Suite 'OverheadTests' started at 2026-12-01 16:59:35.100
/r/Tests/EngineTests/OverheadTests.swift:35: OverheadTests.testAMillionTasksEndToEnd : Test skipped - set SEXTANT_ENGINE_MILLION=1 to run a million tasks
Test Case 'OverheadTests.testAMillionTasksEndToEnd' skipped (0.001 seconds)
/r/Tests/EndToEndTests/LocalModeTests.swift:77: LocalModeTests.testInterrupt : Test skipped - the job finished before the interrupt arrived
Test Case 'LocalModeTests.testInterrupt' skipped (0.002 seconds)
Test Case 'StorageBenchmarkTests.testSmallObjectRatesAndMultipartThroughput' skipped (0.000 seconds)
2026-12-01T16:59:36+0000 info sextant.engine: job=job-05f9747a partitions=20000 skipped=0 [Engine] job started
\t Executed 9 tests, with 3 tests skipped and 0 failures (0 unexpected) in 0.679 (0.679) seconds
"""


class CheckSkipsTests(unittest.TestCase):
    def test_finds_every_skip_with_its_reason(self):
        names, reasons, largest = check.skipped_tests(LOG)
        self.assertEqual(names, ["OverheadTests.testAMillionTasksEndToEnd", "LocalModeTests.testInterrupt",
                                 "StorageBenchmarkTests.testSmallObjectRatesAndMultipartThroughput"])
        self.assertEqual(reasons["LocalModeTests.testInterrupt"], "the job finished before the interrupt arrived")
        self.assertEqual(largest, 3, "'skipped=0' in a log line is not a total")

    def test_allowed_by_method_or_by_class(self):
        names, _, _ = check.skipped_tests(LOG)
        allowed = {"OverheadTests.testAMillionTasksEndToEnd", "StorageBenchmarkTests"}
        self.assertEqual(check.unexpected(names, allowed), ["LocalModeTests.testInterrupt"])

    def run_main(self, log, allowed):
        with tempfile.TemporaryDirectory() as directory:
            log_path, allowed_path = os.path.join(directory, "log"), os.path.join(directory, "allowed")
            with open(log_path, "w") as handle:
                handle.write(log)
            with open(allowed_path, "w") as handle:
                handle.write(allowed)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                return check.main(["check-skips", log_path, allowed_path])

    def test_exit_status(self):
        everything = "OverheadTests.testAMillionTasksEndToEnd  # why\nStorageBenchmarkTests\nLocalModeTests\n"
        self.assertEqual(self.run_main(LOG, everything), 0)
        self.assertEqual(self.run_main(LOG, "StorageBenchmarkTests\n"), 1)
        self.assertEqual(self.run_main("Executed 3 tests, with 0 failures\n", ""), 0)

    def test_a_total_without_names_fails(self):
        self.assertEqual(self.run_main("\t Executed 3 tests, with 1 test skipped and 0 failures\n", ""), 1)

    def test_the_shipped_allow_list_is_short_and_explained(self):
        with open(os.path.join(HERE, "allowed-skips")) as handle:
            entries = [line for line in handle if line.strip() and not line.startswith("#")]
        self.assertLessEqual(len(entries), 5)
        for line in entries:
            self.assertIn("#", line, f"say why: {line}")


if __name__ == "__main__":
    unittest.main()
