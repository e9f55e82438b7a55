"""Benchmark of the impact engine on generated maps: propagation, explanations, analysis, greedy plan.

    .venv/bin/python bench/impact_bench.py                 # 5,000 nodes
    .venv/bin/python bench/impact_bench.py --nodes 1000 10000 100000 --repeat 5
    .venv/bin/python bench/impact_bench.py --nodes 1000 --cp-sat 10 --analysis
    .venv/bin/python bench/impact_bench.py --nodes --planner 30 100 200

Maps are layered like a hospital IS: zones joined by links, servers on clusters, datastores and
applications hosted on servers, identity services, external services behind links, and business
services on top; five dependencies per node on average (printed). Generation is seeded: same figures
for the same arguments on the same machine.

--planner N...: for each N, compromise hosts of a map of 20 N nodes (at most 2,000) until the plan has at least N tasks
with work, then time the greedy plan and CP-SAT warm-started from it (5 s budget up to 30 tasks, 10 s
above), printing objective, bound, gap, whether it is proven optimal, and the gain over greedy.
"""

from __future__ import annotations

import argparse
import random
import time

from garde.impact import (
    Action,
    ActionKind,
    Dependency,
    DepKind,
    Kind,
    Map,
    Node,
    Reach,
    analyse,
    plan,
    simulate,
)

PLAN_MAX = 10_000  # explaining 44,000 nodes not UP, or planning their return, takes minutes at 100,000 nodes
SKILLS = ["systeme", "reseau", "applicatif", "identite"]


def generate(total: int, seed: int = 1) -> Map:
    rng = random.Random(seed)
    zones = [f"z{i}" for i in range(max(4, total // 400))]
    links = [f"l{i}" for i in range(max(2, len(zones) // 2))]
    nodes: list[Node] = []
    for i, zone in enumerate(zones):
        reaches = [Reach(zones[(i + 1) % len(zones)], rng.choice(links))]
        reaches.append(Reach(zones[0]) if i else Reach(zones[-1], links[0]))
        nodes.append(Node(id=zone, kind=Kind.ZONE, name=zone, reaches=tuple(reaches),
                          restore_minutes=60, restore_skill="reseau"))
    nodes += [Node(id=link, kind=Kind.LINK, name=link, link_kind="wan", restore_minutes=30, restore_skill="reseau")
              for link in links]
    dcs = [f"dc{i}" for i in range(2)]
    nodes += [Node(id=dc, kind=Kind.SERVER, name=dc, ad_tier=0, restore_minutes=120, restore_skill="identite",
                   dependencies=(Dependency(DepKind.IN_ZONE, (zones[0],)),)) for dc in dcs]
    nodes.append(Node(id="ad", kind=Kind.IDENTITY, name="AD", identity_kind="ad", restore_minutes=60,
                      restore_skill="identite", dependencies=(Dependency(DepKind.REQUIRES_ONE_OF, tuple(dcs)),
                                                              Dependency(DepKind.IN_ZONE, (zones[0],)))))
    remaining = total - len(nodes)
    counts = {"host": remaining * 8 // 100, "server": remaining * 30 // 100, "datastore": remaining * 15 // 100,
              "external": remaining * 5 // 100, "service": remaining * 7 // 100}
    counts["application"] = remaining - sum(counts.values())
    hosts = [f"h{i}" for i in range(counts["host"])]
    for h in hosts:
        nodes.append(Node(id=h, kind=Kind.SERVER, name=h, restore_minutes=rng.choice([60, 120]), restore_skill="systeme",
                          dependencies=(Dependency(DepKind.IN_ZONE, (rng.choice(zones),)),)))
    servers = [f"s{i}" for i in range(counts["server"])]
    for s in servers:
        nodes.append(Node(id=s, kind=Kind.SERVER, name=s, restore_minutes=rng.choice([30, 60, 90]), restore_skill="systeme",
                          dependencies=(Dependency(DepKind.HOSTED_ON, (rng.choice(hosts),)),
                                        Dependency(DepKind.AUTHENTICATES_VIA, ("ad",)))))
    externals = [f"x{i}" for i in range(counts["external"])]
    nodes += [Node(id=x, kind=Kind.EXTERNAL, name=x, dependencies=(Dependency(DepKind.IN_ZONE, (rng.choice(zones),)),))
              for x in externals]
    stores = [f"d{i}" for i in range(counts["datastore"])]
    for d in stores:
        nodes.append(Node(id=d, kind=Kind.DATASTORE, name=d, restore_minutes=rng.choice([60, 180]),
                          restore_skill="applicatif", dependencies=(Dependency(DepKind.HOSTED_ON, (rng.choice(servers),)),
                                                                    Dependency(DepKind.AUTHENTICATES_VIA, ("ad",)))))
    apps = [f"a{i}" for i in range(counts["application"])]
    for n, a in enumerate(apps):
        deps = [Dependency(DepKind.HOSTED_ON, (rng.choice(servers),)), Dependency(DepKind.AUTHENTICATES_VIA, ("ad",))]
        deps += [Dependency(DepKind.REQUIRES, (t,)) for t in rng.sample(stores, 5)]
        if n > 2 and rng.random() < 0.7:
            deps += [Dependency(DepKind.REQUIRES, (t,)) for t in rng.sample(apps[:n], 3)]
        if rng.random() < 0.3:
            deps.append(Dependency(DepKind.DEGRADED_WITHOUT, (rng.choice(externals),), capability="option"))
        if rng.random() < 0.3:
            deps.append(Dependency(DepKind.REQUIRES_ONE_OF, tuple(rng.sample(servers, 3)), k=2))
        nodes.append(Node(id=a, kind=Kind.APPLICATION, name=a, restore_minutes=rng.choice([30, 60]),
                          restore_skill="applicatif", cached_login=rng.random() < 0.2, dependencies=tuple(deps)))
    for i in range(counts["service"]):
        deps = [Dependency(DepKind.REQUIRES, (t,)) for t in rng.sample(apps, 5)]
        deps.append(Dependency(DepKind.IN_ZONE, (rng.choice(zones),)))
        nodes.append(Node(id=f"svc{i}", kind=Kind.BUSINESS_SERVICE, name=f"Service {i}", criticality=rng.randint(1, 5),
                          max_downtime_minutes=240, procedure="Papier.", dependencies=tuple(deps)))
    return Map(name=f"generated {total}", nodes=tuple(nodes))


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def run(total: int, cp_sat: float, with_analysis: bool, repeat: int = 1) -> None:
    m, seconds = timed(generate, total)
    deps = sum(len([d for d in n.dependencies for _ in d.targets]) for n in m.nodes)
    print(f"\n== {len(m.nodes):,} nodes, {deps:,} dependencies ({deps / len(m.nodes):.1f} per node); "
          f"generated in {seconds:.2f} s")
    _, seconds = timed(simulate, m)
    print(f"normal state (compiles the graph):  {seconds * 1000:8.1f} ms")
    rng = random.Random(2)
    hosts = [n.id for n in m.nodes if n.id.startswith("h")]
    actions = [Action(ActionKind.CUT_LINK, "l0"), Action(ActionKind.COMPROMISE_HOST, "dc0")]
    actions += [Action(ActionKind.COMPROMISE_HOST, h) for h in rng.sample(hosts, max(1, len(hosts) // 20))]
    runs = [timed(simulate, m, actions) for _ in range(repeat)]
    result, seconds = runs[0][0], min(t for _, t in runs)
    down = len(result.not_up())
    print(f"scenario, {len(actions)} actions:         {seconds * 1000:8.1f} ms  ({down:,} nodes not UP; "
          f"best of {repeat}, {seconds / len(m.nodes) * 1e6:.1f} µs per node)")
    if total > PLAN_MAX:
        print(f"(explanations and plan are timed up to {PLAN_MAX:,} nodes; see --planner for the plan)")
        return
    _, seconds = timed(lambda: [result.explain(i) for i in result.not_up()])
    print(f"explain every node not UP (fr):     {seconds * 1000:8.1f} ms")
    if with_analysis:
        analysis, seconds = timed(analyse, m, min_criticality=5)
        print(f"analysis of {len(analysis.risks)} critical services:    {seconds * 1000:8.1f} ms")
    staff = {"systeme": 4, "reseau": 2, "applicatif": 4, "identite": 1}
    p, seconds = timed(plan, m, result, staff)
    print(f"greedy plan, {len(p.slots):,} tasks:          {seconds * 1000:8.1f} ms  objective {p.objective:,}, "
          f"critical-path bound {p.lower_bound:,}, makespan {p.makespan:,} min")
    if cp_sat:
        best, seconds = timed(plan, m, result, staff, solver="cp-sat", time_limit=cp_sat)
        print(f"cp-sat plan ({cp_sat:g} s budget):         {seconds * 1000:8.1f} ms  objective {best.objective:,}, "
              f"bound {best.lower_bound:,}, gap {best.gap:.1%}, optimal {best.optimal}")


def planner(target: int) -> None:
    m = generate(min(2000, 20 * target), seed=target)
    rng = random.Random(target)
    hosts = [n.id for n in m.nodes if n.id.startswith("h")]
    rng.shuffle(hosts)
    staff = {"systeme": 3, "reseau": 1, "applicatif": 3, "identite": 1}
    chosen: list[Action] = []
    for host in hosts:
        chosen.append(Action(ActionKind.COMPROMISE_HOST, host))
        result = simulate(m, chosen)
        greedy = plan(m, result, staff)
        work = sum(1 for slot in greedy.slots if slot.task.skill)
        if work >= target:
            break
    budget = 5.0 if target <= 30 else 10.0
    greedy, g_seconds = timed(plan, m, result, staff)
    best, seconds = timed(plan, m, result, staff, solver="cp-sat", time_limit=budget)
    gain = (greedy.objective - best.objective) / greedy.objective if greedy.objective else 0.0
    print(f"\n== planner: {work} tasks with work ({len(greedy.slots)} with milestones), {len(chosen)} hosts "
          f"compromised, staff {sum(staff.values())}")
    print(f"greedy:                  {g_seconds * 1000:8.1f} ms  objective {greedy.objective:,}, "
          f"critical-path bound {greedy.lower_bound:,}")
    print(f"cp-sat ({budget:g} s budget):   {seconds * 1000:8.1f} ms  objective {best.objective:,}, "
          f"bound {best.lower_bound:,}, gap {best.gap:.1%}, optimal {best.optimal}, "
          f"{gain:.1%} better than greedy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="*", default=[5000])
    parser.add_argument("--repeat", type=int, default=1, help="run the scenario this many times, keep the best")
    parser.add_argument("--planner", type=int, nargs="*", default=[], metavar="TASKS",
                        help="planner benchmark at about this many tasks")
    parser.add_argument("--cp-sat", type=float, default=0.0, metavar="SECONDS",
                        help="also improve the plan with CP-SAT within this budget")
    parser.add_argument("--analysis", action="store_true",
                        help="also time the cut sets of every criticality-5 service")
    args = parser.parse_args()
    import os

    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for total in args.nodes:
        run(total, args.cp_sat, args.analysis, args.repeat)
    for target in args.planner:
        planner(target)
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
