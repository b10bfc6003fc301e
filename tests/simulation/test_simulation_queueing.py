"""The engines against queueing theory. Each test says where its expected value comes from.

Tolerance: the runs are seeded, so nothing here is flaky; an estimate must lie within 3 x its 95% half-width
(about 4.6 standard errors) of the exact value, and that half-width must be small (a few % of the value),
so that the check has teeth. Little's law is checked on every run.
"""
import math

import numpy as np
import pytest
from sim_builders import line, machine

from twins.simulation.runner import simulate


def close(estimate, exact, *, rel_ci=0.06):
    mean, ci = estimate["mean"], estimate["ci95"]
    assert ci < rel_ci * abs(exact), f"CI {ci} too wide to test {exact}"
    assert abs(mean - exact) <= 3 * ci, f"{mean} ± {ci} vs exact {exact}"


def assert_littles_law(res):
    """L = λW (Little): mean WIP = throughput x mean lead time, up to the window's edge effects."""
    lam = res["throughput_per_hour"]["mean"] / 3600.0
    w = res["lead_time_s"]["mean"]
    L = res["wip"]["mean"]
    tol = 3 * (res["wip"]["ci95"] + lam * res["lead_time_s"]["ci95"]) + 0.02 * L + 1e-9
    assert abs(L - lam * w) <= tol, (L, lam * w)


def run(model, *, horizon=100_000.0, warmup=5_000.0, reps=8, seed=7, engine="auto"):
    res = simulate(model, horizon_s=horizon, warmup_s=warmup, replications=reps, seed=seed, engine=engine)
    assert_littles_law(res)
    return res


@pytest.mark.parametrize("engine", ["general", "fastpath"])
def test_mm1_time_in_system_and_queue_length_match_theory(engine):
    # M/M/1, λ = 1/10, μ = 1/6, ρ = 0.6: W = 1/(μ−λ) = 15 s, L = ρ/(1−ρ) = 1.5 (Kleinrock vol. 1, §3.2).
    lam, mu = 0.1, 1 / 6
    res = run(line(machine(0, 6.0, cv=1.0), interarrival=10.0), engine=engine, reps=10)
    assert res["engine"] == engine
    close(res["lead_time_s"], 1 / (mu - lam))
    close(res["wip"], (lam / mu) / (1 - lam / mu))
    close(res["throughput_per_hour"], 360.0, rel_ci=0.02)
    assert res["stations"][1]["utilization"]["working"] == pytest.approx(0.6, abs=0.02)


def erlang_c(c, a):
    """Probability of waiting in M/M/c with offered load a = λ/μ (Erlang C formula)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_mmc_matches_erlang_c():
    # M/M/3, λ = 1/4, μ = 1/10: a = 2.5, ρ = 0.833; Wq = C(3, a) / (cμ − λ), W = Wq + 1/μ.
    lam, mu, c = 0.25, 0.1, 3
    res = run(line(machine(0, 10.0, cv=1.0, capacity=3), interarrival=4.0), reps=10)
    assert res["engine"] == "general"
    w = erlang_c(c, lam / mu) / (c * mu - lam) + 1 / mu
    close(res["lead_time_s"], w)
    # Per-server utilisation of an M/M/c is ρ = λ/(cμ).
    assert res["stations"][1]["utilization"]["working"] == pytest.approx(lam / (c * mu), abs=0.02)


@pytest.mark.parametrize("engine", ["general", "fastpath"])
def test_md1_matches_pollaczek_khinchine(engine):
    # M/D/1, λ = 1/10, D = 7, ρ = 0.7: Wq = ρD / (2(1−ρ)) (Pollaczek–Khinchine with Var S = 0), W = Wq + D.
    lam, d = 0.1, 7.0
    rho = lam * d
    res = run(line(machine(0, d, cv=0.0), interarrival=10.0), engine=engine)
    close(res["lead_time_s"], rho * d / (2 * (1 - rho)) + d)
    # Mean queue length Lq = λ Wq (Little again, for the queue alone).
    assert res["stations"][1]["mean_queue"] == pytest.approx(lam * rho * d / (2 * (1 - rho)), rel=0.08)


def test_open_tandem_jackson_line_sums_the_mm1_stations():
    # Jackson (1957): with unbounded buffers each station of a tandem behaves as an M/M/1 fed at λ, so
    # W = Σ 1/(μ_i − λ) = 1/(1/6 − 0.1) + 1/(1/7 − 0.1) = 15 + 23.33 s, L_i = ρ_i/(1 − ρ_i).
    res = run(line(machine(0, 6.0), machine(0, 7.0), interarrival=10.0), reps=10)
    close(res["lead_time_s"], 15.0 + 1 / (1 / 7 - 0.1))
    close(res["wip"], 1.5 + 0.7 / 0.3)


def two_station_ctmc_throughput(mu1, mu2, b):
    """Unlimited supply -> M1 (exp μ1) -> b slots -> M2 (exp μ2), blocking after service.
    State k = parts past M1 (in the slots or at M2), k = b+2 meaning M1 also holds a finished part:
    a birth–death chain with birth μ1 (k ≤ b+1) and death μ2 (k ≥ 1). Throughput = μ2 · P(k ≥ 1)."""
    n = b + 3
    Q = np.zeros((n, n))
    for k in range(n):
        if k < n - 1:
            Q[k, k + 1] = mu1
        if k > 0:
            Q[k, k - 1] = mu2
        Q[k, k] = -Q[k].sum()
    A = np.vstack([Q.T, np.ones(n)])
    pi = np.linalg.lstsq(A, np.r_[np.zeros(n), 1.0], rcond=None)[0]
    return mu2 * (1 - pi[0])


@pytest.mark.parametrize("engine", ["general", "fastpath"])
@pytest.mark.parametrize("b", [0, 2])
def test_two_stations_with_a_finite_buffer_match_the_ctmc(engine, b):
    mu1, mu2 = 1 / 5, 1 / 6
    res = run(line(machine(0, 5.0), machine(0, 6.0), buffers=[None, b, None]), engine=engine)
    exact = two_station_ctmc_throughput(mu1, mu2, b) * 3600
    close(res["throughput_per_hour"], exact, rel_ci=0.02)
    # The first machine is blocked whenever the chain sits in its top state.
    assert res["stations"][1]["utilization"]["blocked"] > 0.05


@pytest.mark.parametrize("engine", ["general", "fastpath"])
def test_failures_scale_throughput_by_availability(engine):
    # Operation-dependent failures with an unlimited supply: the machine alternates work and repairs, so
    # throughput = A · 3600/cycle with A = MTBF/(MTBF+MTTR) = 200/250 = 0.8 → 288 parts/h.
    res = run(line(machine(0, 10.0, cv=0.0, mtbf=200.0, mttr=50.0)), engine=engine)
    close(res["throughput_per_hour"], 288.0, rel_ci=0.03)
    u = res["stations"][1]["utilization"]
    assert u["working"] == pytest.approx(0.8, abs=0.02)
    assert u["down"] == pytest.approx(0.2, abs=0.02)
    assert sum(u.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("engine", ["general", "fastpath"])
def test_deterministic_line_runs_at_the_slowest_cycle_exactly(engine):
    # No randomness: after warm-up one part leaves every max(cycle) = 5 s, so 3600/5 = 720 parts/h,
    # exact up to one part at the window's edge; identical in every replication (CI 0).
    model = line(machine(0, 3.0, cv=0.0), machine(0, 5.0, cv=0.0), machine(0, 4.0, cv=0.0), buffers=1)
    res = run(model, horizon=3600.0, warmup=600.0, reps=3, engine=engine)
    assert abs(res["throughput_per_hour"]["mean"] - 720.0) <= 3600.0 / 3000.0
    assert res["throughput_per_hour"]["ci95"] == 0.0
    assert res["bottleneck"] == 3
    assert res["stations"][2]["utilization"]["working"] == pytest.approx(1.0, abs=1e-9)
