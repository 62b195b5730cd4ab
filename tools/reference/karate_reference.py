#!/usr/bin/env python3
"""Independent reference values for Zachary's karate club (plain python3, no networkx).

Reproduces NetworkX's pagerank (alpha=0.85, tol=1e-6, L1 stop rule err < N*tol, uniform
dangling) and betweenness_centrality (Brandes 2001, normalized=True, endpoints=False) on the
unweighted 34-node / 78-edge graph, and checks them against the values quoted in
shared/reference/domain.md. Output is embedded in Platform.Tests/Unit/Community.
"""
from collections import deque

# Zachary (1977), 1-indexed as in the original data; the code uses 0-indexed nodes like NetworkX.
EDGES_1 = [(2,1),(3,1),(3,2),(4,1),(4,2),(4,3),(5,1),(6,1),(7,1),(7,5),(7,6),(8,1),(8,2),(8,3),(8,4),
(9,1),(9,3),(10,3),(11,1),(11,5),(11,6),(12,1),(13,1),(13,4),(14,1),(14,2),(14,3),(14,4),(17,6),(17,7),
(18,1),(18,2),(20,1),(20,2),(22,1),(22,2),(26,24),(26,25),(28,3),(28,24),(28,25),(29,3),(30,24),(30,27),
(31,2),(31,9),(32,1),(32,25),(32,26),(32,29),(33,3),(33,9),(33,15),(33,16),(33,19),(33,21),(33,23),
(33,24),(33,30),(33,31),(33,32),(34,9),(34,10),(34,14),(34,15),(34,16),(34,19),(34,20),(34,21),(34,23),
(34,24),(34,27),(34,28),(34,29),(34,30),(34,31),(34,32),(34,33)]
EDGES = [(a-1, b-1) for a, b in EDGES_1]
N = 34
assert len(EDGES) == 78 and len(set(frozenset(e) for e in EDGES)) == 78
adj = [[] for _ in range(N)]
for a, b in EDGES:
    adj[a].append(b); adj[b].append(a)

def pagerank(alpha=0.85, tol=1e-6, max_iter=100):
    x = [1.0 / N] * N
    for _ in range(max_iter):
        last = x
        x = [0.0] * N
        dangling = sum(last[u] for u in range(N) if not adj[u])
        for u in range(N):
            share = alpha * last[u] / len(adj[u]) if adj[u] else 0.0
            for v in adj[u]:
                x[v] += share
        for v in range(N):
            x[v] += alpha * dangling / N + (1 - alpha) / N
        if sum(abs(x[i] - last[i]) for i in range(N)) < N * tol:
            return x
    raise RuntimeError("no convergence")

def pagerank_exact(alpha=0.85):
    x = [1.0 / N] * N
    for _ in range(1000):
        y = [(1 - alpha) / N] * N
        for u in range(N):
            for v in adj[u]:
                y[v] += alpha * x[u] / len(adj[u])
        x = y
    return x

def betweenness():
    cb = [0.0] * N
    for s in range(N):
        stack, pred = [], [[] for _ in range(N)]
        sigma = [0] * N; sigma[s] = 1
        dist = [-1] * N; dist[s] = 0
        q = deque([s])
        while q:
            v = q.popleft(); stack.append(v)
            for w in adj[v]:
                if dist[w] < 0:
                    dist[w] = dist[v] + 1; q.append(w)
                if dist[w] == dist[v] + 1:
                    sigma[w] += sigma[v]; pred[w].append(v)
        delta = [0.0] * N
        while stack:
            w = stack.pop()
            for v in pred[w]:
                delta[v] += sigma[v] / sigma[w] * (1 + delta[w])
            if w != s:
                cb[w] += delta[w]
    # undirected: each pair counted twice, then normalized by 2/((n-1)(n-2)) -> overall 1/((n-1)(n-2))
    scale = 1.0 / ((N - 1) * (N - 2))
    return [c * scale for c in cb]

pr = pagerank(); bc = betweenness(); pre = pagerank_exact()
assert abs(pr[33] - 0.1009179167487121) < 1e-12, pr[33]
assert abs(pr[0] - 0.09700181758983709) < 1e-12, pr[0]
assert abs(bc[0] - 0.43763528138528146) < 1e-12, bc[0]
assert abs(bc[33] - 0.30407497594997596) < 1e-12, bc[33]
print("max |pagerank(tol 1e-6) - fixed point| =", max(abs(a - b) for a, b in zip(pr, pre)))
print("PAGERANK = [" + ", ".join(repr(v) for v in pr) + "]")
print("BETWEENNESS = [" + ", ".join(repr(v) for v in bc) + "]")
