#!/usr/bin/env python3
"""bench/gen_results.py, the benchmarks' verdicts, on tachyon-gen --json
documents written here step by step (the fields the script reads, shaped as
tachyon-gen writes them; e2e_gen_smoke runs the script on real results too).

    gen_results_test.py PATH/TO/gen_results.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = None


def step(rate, passed, sent=None, rtt=(5.0, 50.0, 500.0), proc=(0.3, 0.8), kind="ramp", invalid=0):
    """One step as tachyon-gen writes it; proc=None for a run without
    server timestamps (the reflector's --echo)."""
    sent = rate if sent is None else sent
    s = {"kind": kind, "offered_rate": rate, "sent_rate": sent, "answered_rate": sent if passed else sent * 0.9,
         "lost_pct": 0.0 if passed else 10.0, "passed": passed, "invalid": invalid,
         "rtt_us": {"p50": rtt[0], "p99": rtt[1], "p999": rtt[2]}}
    if proc is not None:
        s["processing_us"] = {"p50": proc[0], "p99": proc[1]}
    return s


def result(steps, stop="loss", lower_bound=False, rescued=()):
    best = max((s for s in steps if s["passed"]), key=lambda s: s["sent_rate"], default=None)
    return {"tool": "tachyon-gen", "config": {}, "steps": steps,
            "result": {"stop_reason": stop, "lower_bound": lower_bound,
                       "max_loss_free_rate": best and best["sent_rate"],
                       # the numbers of the retry steps that passed
                       "passed_when_run_again": list(rescued)}}


class GenResults(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, doc):
        path = os.path.join(self.dir.name, name + ".json")
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def run_script(self, *args):
        out = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def compare(self, subject, baseline, *options):
        return self.run_script("compare", *options, "subject=" + self.write("s", subject),
                               "baseline=" + self.write("b", baseline))

    def ratio_line(self, text):
        return next(l for l in text.splitlines() if l.startswith("ratio "))

    # --- compare: the ratio of the maxima and its verdict

    def test_ratio_of_two_measured_maxima_is_judged_against_the_target(self):
        subject = result([step(100e3, True), step(200e3, True), step(400e3, True), step(800e3, False)])
        baseline = result([step(20e3, True), step(40e3, True), step(80e3, False)])
        self.assertEqual(self.ratio_line(self.compare(subject, baseline, "--target", "4")),
                         "ratio subject/baseline: 10.00, measured (target ≥ 4: met)")
        self.assertEqual(self.ratio_line(self.compare(subject, baseline, "--target", "12")),
                         "ratio subject/baseline: 10.00, measured (target ≥ 12: NOT met)")

    def test_the_maximum_is_the_best_sent_rate_of_a_passed_step_not_the_offered_one(self):
        # the second step passed short of its rate; the third failed at a higher one
        subject = result([step(100e3, True), step(200e3, True, sent=150e3), step(300e3, False, sent=290e3)])
        baseline = result([step(50e3, True), step(100e3, False)])
        text = self.compare(subject, baseline, "--target", "2")
        self.assertIn("150,000", text.splitlines()[2])
        self.assertEqual(self.ratio_line(text), "ratio subject/baseline: 3.00, measured (target ≥ 2: met)")

    def test_a_maximum_at_the_generators_limit_bounds_the_ratio(self):
        capped = result([step(100e3, True), step(200e3, True)], stop="generator", lower_bound=True)
        server = result([step(100e3, True), step(200e3, False)])
        strong = result([step(400e3, True), step(800e3, False)])
        # subject capped: a ratio above the target is met, one below cannot be judged
        self.assertEqual(self.ratio_line(self.compare(capped, server, "--target", "1.5")),
                         "ratio subject/baseline: 2.00, at least (target ≥ 1.5: met)")
        self.assertEqual(self.ratio_line(self.compare(capped, strong, "--target", "1")),
                         "ratio subject/baseline: 0.50, at least (target ≥ 1: cannot be judged: "
                         "the subject ended at the generator's limit)")
        # baseline capped: the reverse
        self.assertEqual(self.ratio_line(self.compare(server, capped, "--target", "1")),
                         "ratio subject/baseline: 0.50, at most (target ≥ 1: NOT met)")
        self.assertEqual(self.ratio_line(self.compare(strong, capped, "--target", "1")),
                         "ratio subject/baseline: 2.00, at most (target ≥ 1: cannot be judged: "
                         "the baseline ended at the generator's limit)")
        self.assertEqual(self.ratio_line(self.compare(capped, capped, "--target", "1")),
                         "ratio subject/baseline: 1.00, ratio of lower bounds (target ≥ 1: cannot be judged: "
                         "both runs ended at the generator's limit)")
        self.assertIn("≥ 200,000", self.compare(capped, server, "--target", "1").splitlines()[2])

    def test_a_run_without_a_loss_free_step_has_no_ratio(self):
        none = result([step(20e3, False), step(20e3, False, kind="retry")])
        server = result([step(20e3, True), step(40e3, False)])
        text = self.compare(server, none, "--target", "4")
        self.assertEqual(self.ratio_line(text), "ratio subject/baseline: n/a (a run had no loss-free step)")
        self.assertRegex(text.splitlines()[3], r"^baseline +none ")

    def test_below_saturation_is_the_passed_step_nearest_half_the_maximum(self):
        # half of 400k is 200k: the failed 190k retry is nearer but did not pass
        subject = result([step(100e3, True, proc=(0.2, 0.6)), step(190e3, False, proc=(0.3, 9.0), kind="retry"),
                          step(250e3, True, proc=(0.4, 1.3)), step(400e3, True, proc=(0.5, 2.0)),
                          step(500e3, False)])
        baseline = result([step(50e3, True), step(100e3, False)])
        line = self.compare(subject, baseline, "--target", "4").splitlines()[2].split()
        # server, max, rtt p50/p99/p99.9 at the maximum, then below saturation:
        # rate, rtt p50/p99, processing p50/p99, invalid, how the ramp ended
        self.assertEqual(line[1], "400,000")
        self.assertEqual(line[5], "250,000")
        self.assertEqual(line[8:10], ["0.40", "1.30"])
        self.assertEqual(line[10:], ["0", "loss"])

    def test_invalid_answers_and_rescued_steps_are_in_the_table(self):
        subject = result([step(100e3, True, invalid=3), step(200e3, False), step(200e3, True, kind="retry", invalid=1),
                          step(300e3, False), step(300e3, False, kind="retry")], rescued=[3])
        baseline = result([step(50e3, True), step(100e3, False)])
        line = self.compare(subject, baseline, "--target", "4").splitlines()[2]
        self.assertRegex(line, r" 4  loss \(1 failed step passed when run again\)$")
        two = result(subject["steps"], rescued=[3, 5])
        self.assertTrue(self.compare(two, baseline, "--target", "4").splitlines()[2]
                        .endswith("loss (2 failed steps passed when run again)"))

    def test_a_run_without_server_timestamps_shows_no_processing_time(self):
        echo = result([step(100e3, True, proc=None), step(200e3, False, proc=None)])
        server = result([step(100e3, True), step(200e3, False)])
        line = self.compare(server, echo, "--target", "1").splitlines()[3].split()
        self.assertEqual(line[8:10], ["-", "-"])

    # --- compare --processing-p99: the first run's stated processing time

    def test_processing_p99_below_saturation_is_judged_for_the_first_run_only(self):
        baseline = result([step(20e3, True, proc=(30, 90)), step(40e3, False)])
        fast = result([step(100e3, True, proc=(0.3, 0.9)), step(200e3, True, proc=(0.5, 3.0)), step(400e3, False)])
        text = self.compare(fast, baseline, "--target", "4", "--processing-p99", "1")
        self.assertEqual(self.verdict_line(text), "subject's stated processing p99 below saturation (at 100,000/s): "
                                                  "0.90 us (target ≤ 1 us: met)")
        slow = result([step(100e3, True, proc=(0.3, 1.2)), step(200e3, True), step(400e3, False)])
        self.assertEqual(self.verdict_line(self.compare(slow, baseline, "--target", "4", "--processing-p99", "1")),
                         "subject's stated processing p99 below saturation (at 100,000/s): "
                         "1.20 us (target ≤ 1 us: NOT met)")
        # without the option, no verdict
        self.assertTrue(self.compare(fast, baseline, "--target", "4").splitlines()[-1].startswith("ratio "))
        none = result([step(100e3, False)])
        self.assertEqual(self.compare(none, baseline, "--target", "4", "--processing-p99", "1").splitlines()[-1],
                         "subject's stated processing p99 below saturation: n/a "
                         "(no loss-free step with processing times)")

    def verdict_line(self, text):
        return next(l for l in text.splitlines() if "stated processing p99 below saturation" in l)

    def spread_line(self, text):
        return next((l for l in text.splitlines() if "stated processing p99 over its" in l), None)

    def test_processing_p99_spread_covers_every_passed_step_up_to_the_verdicts_rate(self):
        baseline = result([step(20e3, True, proc=(30, 90)), step(40e3, False)])
        # maximum 400k/s, so the verdict reads the 200k/s step; the spread takes
        # the passed steps at or below it (not the failed one, nor those above)
        subject = result([step(50e3, True, proc=(0.3, 2.5)), step(100e3, True, proc=(0.3, 1.0)),
                          step(150e3, False, proc=(0.3, 40.0)), step(200e3, True, proc=(0.3, 0.6)),
                          step(300e3, True, proc=(0.3, 9.0)), step(400e3, True, proc=(0.3, 9.5)),
                          step(500e3, False)])
        text = self.compare(subject, baseline, "--target", "4", "--processing-p99", "1")
        self.assertEqual(self.verdict_line(text), "subject's stated processing p99 below saturation (at 200,000/s): "
                                                  "0.60 us (target ≤ 1 us: met)")
        self.assertEqual(self.spread_line(text), "subject's stated processing p99 over its 3 passed step(s) up to "
                                                 "200,000/s: 0.60-2.50 us, median 1.00; within 1 us in 2 of 3")
        self.assertEqual(text.splitlines()[-1], self.spread_line(text))
        # a step without server timestamps is left out; without the option, no spread
        subject["steps"][0].pop("processing_us")
        self.assertEqual(self.spread_line(self.compare(subject, baseline, "--target", "4", "--processing-p99", "1")),
                         "subject's stated processing p99 over its 2 passed step(s) up to "
                         "200,000/s: 0.60-1.00 us, median 0.80; within 1 us in 2 of 2")
        self.assertIsNone(self.spread_line(self.compare(subject, baseline, "--target", "4")))

    # --- summary: pairs run one after the other

    def summary(self, pairs, *options):
        args = ["summary", *options, "--names", "tachyond,chronyd"]
        for i, (a, b) in enumerate(pairs):
            args.append(self.write(f"a{i}", a) + ":" + self.write(f"b{i}", b))
        return self.run_script(*args).splitlines()

    def test_summary_takes_the_median_of_the_measured_ratios_only(self):
        def run(rate, proc=0.5, **kw):
            return result([step(rate / 2, True, proc=(0.3, proc)), step(rate, True), step(rate * 2, False)], **kw)
        pairs = [(run(400e3), run(40e3)),                                    # 10
                 (run(400e3), run(200e3)),                                   # 2
                 (run(600e3), run(100e3)),                                   # 6
                 (run(20e3, stop="generator", lower_bound=True), run(80e3)),  # bounded: not in the median
                 (result([step(20e3, False)]), run(80e3))]                   # no loss-free step
        lines = self.summary(pairs, "--target", "4")
        self.assertRegex(lines[1], r"^1 +400,000 +40,000 +10\.00  measured$")
        self.assertRegex(lines[4], r"^4 +≥ 20,000 +80,000 +0\.25  at least$")
        self.assertRegex(lines[5], r"^5 +- +- +n/a  a run had no loss-free step$")
        self.assertEqual(lines[6], "median ratio over the 3 measured pair(s): 6.00 (range 2.00-10.00; "
                                   "target ≥ 4: met at the median, met in 2 of 3)")
        self.assertEqual(len(lines), 7)

    def test_summary_judges_the_processing_p99_of_every_run_that_has_one(self):
        def run(rate, proc):
            # the verdict reads the step at rate/2; the spread takes the one below it too
            return result([step(rate / 4, True, proc=(0.3, 1.2)), step(rate / 2, True, proc=(0.3, proc)),
                           step(rate, True), step(rate * 2, False)])
        pairs = [(run(400e3, 0.8), run(40e3, 40)),
                 (run(400e3, 1.4), result([step(20e3, False)])),  # no ratio, but a processing time
                 (run(400e3, 1.0), run(40e3, 40))]  # at the bound: met
        lines = self.summary(pairs, "--target", "4", "--processing-p99", "1")
        self.assertIn("tachyond proc p99 (us)", lines[0])
        self.assertIn("steps within", lines[0])
        self.assertRegex(lines[1], r"^1 +400,000 +40,000 +10\.00 +0\.80 +1/2  measured$")
        self.assertRegex(lines[2], r"^2 +- +- +n/a +1\.40 +0/2  a run had no loss-free step$")
        self.assertRegex(lines[3], r"^3 +400,000 +40,000 +10\.00 +1\.00 +1/2  measured$")
        self.assertEqual(lines[-2], "tachyond's stated processing p99 below saturation, median over 3 run(s): 1.00 us "
                                    "(range 0.80-1.40; target ≤ 1 us: met at the median, met in 2 of 3)")
        self.assertEqual(lines[-1], "tachyond's stated processing p99 over the passed steps up to each run's "
                                    "below-saturation rate: within 1 us in 2 of 6")

    def test_summary_with_no_measured_pair_says_the_target_cannot_be_judged(self):
        capped = result([step(20e3, True)], stop="generator", lower_bound=True)
        lines = self.summary([(capped, capped)], "--target", "4")
        self.assertEqual(lines[-1], "median ratio: n/a (no pair where both maxima were the servers' own; "
                                    "target ≥ 4 cannot be judged)")

    # --- tsv and common-rate: what the plots and the same-load runs read

    def test_tsv_is_sorted_by_offered_rate_with_nan_for_what_a_step_lacks(self):
        doc = result([step(200e3, False, proc=None), step(100e3, True, rtt=(4, 40, 400), proc=(0.25, 0.75)),
                      step(150e3, True, proc=None, kind="retry")])
        lines = self.run_script("tsv", self.write("r", doc)).splitlines()
        self.assertTrue(lines[0].startswith("# offered\tsent"))
        self.assertEqual(lines[1].split("\t"), ["100000", "100000", "100000", "0", "4", "40", "400", "0.25", "0.75", "1"])
        self.assertEqual([l.split("\t")[0] for l in lines[1:]], ["100000", "150000", "200000"])
        self.assertEqual(lines[3].split("\t")[7:], ["NaN", "NaN", "0"])

    def test_common_rate_is_the_fraction_of_the_smaller_maximum(self):
        a = self.write("a", result([step(100e3, True), step(300e3, True), step(600e3, False)]))
        b = self.write("b", result([step(50e3, True), step(200e3, True, sent=180e3), step(400e3, False)]))
        self.assertEqual(self.run_script("common-rate", "--fraction", "0.5", a, b).strip(), "90000")
        none = self.write("n", result([step(50e3, False)]))
        out = subprocess.run([sys.executable, SCRIPT, "common-rate", a, none], capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no loss-free step", out.stderr)


if __name__ == "__main__":
    SCRIPT = sys.argv.pop(1)
    unittest.main(verbosity=2)
