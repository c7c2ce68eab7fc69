#!/usr/bin/env python3
"""Summaries of tachyon-gen --json results, for the benchmark scripts.

    gen_results.py tsv RESULT.json > steps.tsv
    gen_results.py compare --target 0.9 [--processing-p99 US] SUBJECT=RESULT.json BASELINE=RESULT.json
    gen_results.py summary --target 4 [--processing-p99 US] --names A,B A1.json:B1.json A2.json:B2.json ...
    gen_results.py common-rate --fraction 0.9 A.json B.json

`tsv` writes one line per step, sorted by offered rate: offered, sent,
answered rates, lost %, RTT p50/p99/p99.9 and processing p50/p99 (us), and
1 if the step passed. `compare` prints, for each run, the maximum loss-free
rate with the RTT percentiles of that step, and RTT and server processing
time below saturation (the passing step closest to half the maximum); then
the ratio of the first run's maximum to the second's against the target
(a bound, or no verdict, when a ramp ended at the generator's limit).
`summary` takes several such pairs run one after the other and prints each
pair's maxima and ratio, then the median of the measured ratios: on a noisy
machine one pair's ratio moves a lot. `common-rate` prints a rate both
runs sustained: the fraction of the smaller of their maxima (requests/s),
for comparing two servers under the same load.

With `--processing-p99 US`, `compare` and `summary` also judge the first
run's stated processing time (transmit - receive in its answers) at p99
below saturation against that bound: per run, and over the pairs as a
median. Both also give the spread of that p99 over every passed step up
to that rate (the verdict reads one step; a host stall on it decides it):
`compare` its range and median, `summary` in how many steps it was
within the bound, per pair and over all.
"""
import argparse
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def pct(step, key, p):
    v = step.get(key)
    return None if v is None else v.get(p)


def fmt(v, width, digits=1):
    return f"{'-':>{width}}" if v is None else f"{v:>{width}.{digits}f}"


def tsv(args):
    doc = load(args.result)
    steps = sorted(doc["steps"], key=lambda s: s["offered_rate"] or s["sent_rate"])
    print("# offered\tsent\tanswered\tlost_pct\trtt_p50\trtt_p99\trtt_p999\tproc_p50\tproc_p99\tpassed")
    for s in steps:
        cells = [s["offered_rate"] or s["sent_rate"], s["sent_rate"], s["answered_rate"], s["lost_pct"],
                 pct(s, "rtt_us", "p50"), pct(s, "rtt_us", "p99"), pct(s, "rtt_us", "p999"),
                 pct(s, "processing_us", "p50"), pct(s, "processing_us", "p99"), 1 if s["passed"] else 0]
        print("\t".join("NaN" if c is None else f"{c:g}" for c in cells))


def summary(name, doc):
    steps = doc["steps"]
    best = None
    for s in steps:
        if s["passed"] and (best is None or s["sent_rate"] > best["sent_rate"]):
            best = s
    below = None
    if best is not None:
        half = best["sent_rate"] / 2
        passed = [s for s in steps if s["passed"]]
        below = min(passed, key=lambda s: abs(s["sent_rate"] - half))
    invalid = sum(s["invalid"] for s in steps)
    return {"name": name, "steps": steps, "best": best, "below": below, "invalid": invalid,
            "stop": doc["result"]["stop_reason"], "lower_bound": doc["result"]["lower_bound"],
            # failed steps that passed when run again (tachyon-gen --loss-retries); older files lack it
            "rescued": len(doc["result"].get("passed_when_run_again", []))}


def bound_of(a, b):
    """What the ratio of two summaries' maxima is: a maximum marked "≥" is
    only a lower bound (the generator ran out first), so the ratio is then a
    lower bound (subject bounded), an upper bound (baseline bounded) or
    nothing at all (both)."""
    if a["lower_bound"] and b["lower_bound"]:
        return "ratio of lower bounds"
    if a["lower_bound"]:
        return "at least"
    if b["lower_bound"]:
        return "at most"
    return "measured"


def compare(args):
    runs = []
    for item in args.runs:
        name, _, path = item.partition("=")
        runs.append(summary(name, load(path)))
    print(f"{'server':<12} {'max loss-free/s':>16} {'rtt p50':>8} {'p99':>8} {'p99.9':>8}   "
          f"{'at rate/s':>10} {'rtt p50':>8} {'p99':>8} {'proc p50':>9} {'p99':>8}  {'invalid':>7}  ramp ended")
    print(f"{'':<12} {'':>16} {'us (at the maximum)':>26}   {'below saturation (~half the maximum), us':>55}")
    for r in runs:
        b, lo = r["best"], r["below"]
        rate = "none" if b is None else ("≥ " if r["lower_bound"] else "") + f"{b['sent_rate']:,.0f}"
        line = f"{r['name']:<12} {rate:>16} "
        line += " ".join(fmt(None if b is None else pct(b, "rtt_us", p), 8) for p in ("p50", "p99", "p999"))
        line += "   " + (f"{lo['sent_rate']:>10,.0f}" if lo else f"{'-':>10}") + " "
        line += " ".join(fmt(None if lo is None else pct(lo, "rtt_us", p), 8) for p in ("p50", "p99"))
        line += " " + fmt(None if lo is None else pct(lo, "processing_us", "p50"), 9, 2)
        line += " " + fmt(None if lo is None else pct(lo, "processing_us", "p99"), 8, 2)
        line += f"  {r['invalid']:>7}  {r['stop']}"
        if r["rescued"]:
            line += f" ({r['rescued']} failed step{'s' if r['rescued'] > 1 else ''} passed when run again)"
        print(line)
    a, b = runs[0], runs[1]
    if a["best"] and b["best"]:
        ratio = a["best"]["sent_rate"] / b["best"]["sent_rate"]
        bound = bound_of(a, b)
        met = ratio >= args.target
        verdict = {
            "ratio of lower bounds": "cannot be judged: both runs ended at the generator's limit",
            "at least": "met" if met else "cannot be judged: the subject ended at the generator's limit",
            "at most": "NOT met" if not met else "cannot be judged: the baseline ended at the generator's limit",
            "measured": "met" if met else "NOT met",
        }[bound]
        print(f"ratio {a['name']}/{b['name']}: {ratio:.2f}, {bound} (target ≥ {args.target:g}: {verdict})")
    else:
        print(f"ratio {a['name']}/{b['name']}: n/a (a run had no loss-free step)")
    if args.processing_p99 is not None:
        print(processing_verdict(a, args.processing_p99))
        spread = processing_spread(a, args.processing_p99)
        if spread:
            print(spread)


def processing_p99(r):
    """The p99 of the processing time stated below saturation, or None."""
    return None if r["below"] is None else pct(r["below"], "processing_us", "p99")


def processing_verdict(r, bound):
    v = processing_p99(r)
    if v is None:
        return f"{r['name']}'s stated processing p99 below saturation: n/a (no loss-free step with processing times)"
    return (f"{r['name']}'s stated processing p99 below saturation (at {r['below']['sent_rate']:,.0f}/s): "
            f"{v:.2f} us (target ≤ {bound:g} us: {'met' if v <= bound else 'NOT met'})")


def step_p99s(r):
    """The processing p99 of every passed step up to the below-saturation
    rate, sorted (the verdict reads one step, and on a noisy host a stall
    on that step decides it)."""
    if r["below"] is None:
        return []
    limit = r["below"]["sent_rate"]
    return sorted(v for v in (pct(s, "processing_us", "p99") for s in r["steps"]
                              if s["passed"] and s["sent_rate"] <= limit) if v is not None)


def processing_spread(r, bound):
    """That spread as a line, or None."""
    vals = step_p99s(r)
    if not vals:
        return None
    limit = r["below"]["sent_rate"]
    within = sum(1 for v in vals if v <= bound)
    return (f"{r['name']}'s stated processing p99 over its {len(vals)} passed step(s) up to {limit:,.0f}/s: "
            f"{vals[0]:.2f}-{vals[-1]:.2f} us, median {statistics.median(vals):.2f}; "
            f"within {bound:g} us in {within} of {len(vals)}")


def summary_cmd(args):
    """Every pair's maxima and ratio, then the median ratio (pairs of runs
    taken one after the other: how much a single run's ratio can be trusted)."""
    names = args.names.split(",")
    ratios, procs, steps_within, steps_all = [], [], 0, 0
    judge_proc = args.processing_p99 is not None
    head = f"{'pair':<6} {names[0] + ' max/s':>20} {names[1] + ' max/s':>20} {'ratio':>7}  "
    if judge_proc:
        head += f"{names[0] + ' proc p99 (us)':>24} {'steps within':>12}  "
    print(head + "bound")
    for i, item in enumerate(args.pairs, 1):
        a_path, _, b_path = item.partition(":")
        a, b = summary(names[0], load(a_path)), summary(names[1], load(b_path))
        # the subject's processing time below saturation stands on its own,
        # whether or not the pair has a ratio
        proc = processing_p99(a)
        if proc is not None:
            procs.append(proc)
        cell = ""
        if judge_proc:
            vals = step_p99s(a)
            within = sum(1 for v in vals if v <= args.processing_p99)
            steps_within, steps_all = steps_within + within, steps_all + len(vals)
            cell = f"{fmt(proc, 24, 2)} {f'{within}/{len(vals)}' if vals else '-':>12}  "
        if not a["best"] or not b["best"]:
            print(f"{i:<6} {'-':>20} {'-':>20} {'n/a':>7}  {cell}a run had no loss-free step")
            continue
        ra, rb = a["best"]["sent_rate"], b["best"]["sent_rate"]
        ratio = ra / rb
        bound = bound_of(a, b)
        ratios.append((ratio, bound))
        fa = ("≥ " if a["lower_bound"] else "") + f"{ra:,.0f}"
        fb = ("≥ " if b["lower_bound"] else "") + f"{rb:,.0f}"
        print(f"{i:<6} {fa:>20} {fb:>20} {ratio:>7.2f}  {cell}{bound}")
    measured = sorted(r for r, bound in ratios if bound == "measured")
    if not measured:
        print(f"median ratio: n/a (no pair where both maxima were the servers' own; target ≥ {args.target:g} cannot be judged)")
    else:
        med = statistics.median(measured)
        met = sum(1 for r in measured if r >= args.target)
        print(f"median ratio over the {len(measured)} measured pair(s): {med:.2f} (range {measured[0]:.2f}-{measured[-1]:.2f}; "
              f"target ≥ {args.target:g}: {'met' if med >= args.target else 'NOT met'} at the median, "
              f"met in {met} of {len(measured)})")
    if judge_proc:
        bound = args.processing_p99
        if not procs:
            print(f"{names[0]}'s stated processing p99 below saturation: n/a (no run had a loss-free step with processing times)")
        else:
            procs.sort()
            med = statistics.median(procs)
            met = sum(1 for v in procs if v <= bound)
            print(f"{names[0]}'s stated processing p99 below saturation, median over {len(procs)} run(s): {med:.2f} us "
                  f"(range {procs[0]:.2f}-{procs[-1]:.2f}; target ≤ {bound:g} us: "
                  f"{'met' if med <= bound else 'NOT met'} at the median, met in {met} of {len(procs)})")
            print(f"{names[0]}'s stated processing p99 over the passed steps up to each run's below-saturation rate: "
                  f"within {bound:g} us in {steps_within} of {steps_all}")


def common_rate(args):
    bests = [summary(path, load(path))["best"] for path in args.results]
    if any(b is None for b in bests):
        print("common-rate: a run had no loss-free step", file=sys.stderr)
        return 1
    print(int(args.fraction * min(b["sent_rate"] for b in bests)))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("tsv")
    t.add_argument("result")
    t.set_defaults(func=tsv)
    c = sub.add_parser("compare")
    c.add_argument("--target", type=float, required=True)
    c.add_argument("--processing-p99", type=float, metavar="US",
                   help="judge the first run's stated processing p99 below saturation against US microseconds")
    c.add_argument("runs", nargs=2, metavar="NAME=RESULT.json")
    m = sub.add_parser("summary")
    m.add_argument("--target", type=float, required=True)
    m.add_argument("--names", default="subject,baseline")
    m.add_argument("--processing-p99", type=float, metavar="US",
                   help="judge the first runs' stated processing p99 below saturation against US microseconds")
    m.add_argument("pairs", nargs="+", metavar="SUBJECT.json:BASELINE.json")
    m.set_defaults(func=summary_cmd)
    c.set_defaults(func=compare)
    r = sub.add_parser("common-rate")
    r.add_argument("--fraction", type=float, default=0.9)
    r.add_argument("results", nargs=2, metavar="RESULT.json")
    r.set_defaults(func=common_rate)
    args = p.parse_args()
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
