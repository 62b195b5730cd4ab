"""Deterministic community with planted collaborator pairs, for evaluating collaborator recommendations offline.

Writes seeds/community/collaborators-planted.json (stdlib only; same output every run):
  members   240 in 10 teams; each has a primary expertise area written in one of three phrasings, plus one or two
            skills from other areas; about 90 % consent to recommendations;
  catalysts learning events whose tags and title come from an area, with contributors from that area;
  messages  a few short messages per member that mention their area's terms among everyday chatter;
  signals   replies within teams and some across teams (the interaction graph);
  pairs     planted ground truth: two members of different teams with the same primary area in *different*
            phrasings (no skill string in common), two shared contacts and no direct tie. Pairs 0-19 are "tune",
            20-39 are "heldout": the held-out part is never used to choose weights or thresholds.
Run: python3 seeds/community/collaborators_planted.py
"""
import json
import os
import random

rng = random.Random(20261205)
AREAS = [
    ["machine learning", "ml models and training", "neural networks"],
    ["kubernetes", "container orchestration", "k8s clusters"],
    ["payments", "card processing", "money transfers"],
    ["accessibility", "inclusive design", "screen reader support"],
    ["data engineering", "etl pipelines", "data warehouses"],
    ["security", "threat modelling", "application security"],
    ["mobile apps", "ios and android", "smartphone development"],
    ["observability", "monitoring and tracing", "logs and metrics"],
    ["product management", "roadmaps and prioritisation", "product discovery"],
    ["user research", "customer interviews", "usability testing"],
    ["postgres", "relational databases", "sql tuning"],
    ["frontend", "browser ui engineering", "react components"],
    ["technical writing", "documentation", "developer guides"],
    ["hiring", "recruiting engineers", "interviewing candidates"],
    ["privacy", "data protection", "gdpr compliance"],
    ["sales engineering", "customer demos", "pre-sales"],
    ["incident response", "on-call", "postmortems"],
    ["cloud costs", "finops", "infrastructure spending"],
    ["localisation", "translation workflows", "internationalisation"],
    ["search", "information retrieval", "ranking relevance"],
    ["billing", "invoicing", "subscription pricing"],
    ["testing", "test automation", "quality assurance"],
    ["design systems", "ui component libraries", "design tokens"],
    ["analytics", "business intelligence", "dashboards and reporting"],
    ["networking", "tcp and dns", "load balancers"],
    ["fraud detection", "risk scoring", "chargeback prevention"],
    ["coaching", "mentoring", "career development"],
    ["energy efficiency", "green software", "carbon footprint"],
    ["compilers", "programming languages", "type systems"],
    ["customer support", "help desk", "support tickets"],
]
AREA_WORDS = [a[0].split()[0] if len(a[0].split()[0]) > 3 else a[0].replace(" ", "") for a in AREAS]
CHATTER = ["thanks for the update", "see you at standup", "lunch anyone?", "great work everyone", "I'll be out on friday",
           "can someone review my change", "coffee at three?", "happy friday", "moving the sync to tuesday", "nice demo"]
TEAMS = ["platform", "payments", "mobile", "data", "design", "support", "sales", "security", "growth", "infra"]
PER_TEAM = 24

members = []
for t, team in enumerate(TEAMS):
    for k in range(PER_TEAM):
        uid = f"m{t:02d}{k:02d}"
        area = rng.randrange(len(AREAS))
        phrasing = rng.randrange(3)
        skills = [AREAS[area][phrasing]]
        for _ in range(rng.randint(1, 2)):
            other = rng.randrange(len(AREAS))
            if other != area:
                skills.append(AREAS[other][rng.randrange(3)])
        members.append({"userId": uid, "team": team, "area": area, "phrasing": phrasing, "skills": skills,
                         "consent": rng.random() < 0.9})

by_id = {m["userId"]: m for m in members}
signals = []


def tie(a, b, n=1):
    for _ in range(n):
        signals.append({"actorId": a, "targetId": b})
        signals.append({"actorId": b, "targetId": a})


# Team life: everyone talks with three or four teammates; a few cross-team ties.
for t, team in enumerate(TEAMS):
    ids = [m["userId"] for m in members if m["team"] == team]
    for a in ids:
        for b in rng.sample([x for x in ids if x != a], 3):
            tie(a, b, rng.randint(1, 3))
for _ in range(120):
    a, b = rng.sample(members, 2)
    if a["team"] != b["team"]:
        tie(a["userId"], b["userId"])

# Planted pairs: same area, different phrasing, different teams, both consenting, not yet connected.
connected = {(s["actorId"], s["targetId"]) for s in signals}
used = set()
pairs = []
candidates = [m for m in members if m["consent"]]
rng.shuffle(candidates)
for a in candidates:
    if len(pairs) == 40:
        break
    if a["userId"] in used:
        continue
    for b in candidates:
        if b["userId"] in used or b["userId"] == a["userId"] or b["team"] == a["team"] or b["area"] != a["area"]:
            continue
        if (a["userId"], b["userId"]) in connected:
            continue
        # Different words for the same thing: b's primary skill is another phrasing of a's area.
        b["phrasing"] = (a["phrasing"] + 1 + rng.randrange(2)) % 3
        b["skills"][0] = AREAS[b["area"]][b["phrasing"]]
        b["skills"] = [s for i, s in enumerate(b["skills"]) if i == 0 or s not in a["skills"]]
        a["skills"] = [s for i, s in enumerate(a["skills"]) if i == 0 or s not in b["skills"]]
        # Two shared contacts, one from each side's team.
        for c in (rng.choice([m for m in members if m["team"] == a["team"] and m["userId"] != a["userId"]]),
                  rng.choice([m for m in members if m["team"] == b["team"] and m["userId"] != b["userId"]])):
            tie(a["userId"], c["userId"], 2)
            tie(b["userId"], c["userId"], 2)
        used.update([a["userId"], b["userId"]])
        pairs.append({"a": a["userId"], "b": b["userId"], "split": "tune" if len(pairs) < 20 else "heldout"})
        break

# Learning catalysts: per area, a few events with contributors of that area.
catalysts = []
for area, names in enumerate(AREAS):
    people = [m["userId"] for m in members if m["area"] == area]
    for n in range(2):
        if not people:
            break
        catalysts.append({"title": f"Brown bag: {names[rng.randrange(3)]} in practice", "tags": [names[rng.randrange(3)]],
                          "contributors": rng.sample(people, min(len(people), 2))})

# Messages: chatter plus the area's terms now and then.
messages = {}
for m in members:
    words = AREAS[m["area"]][m["phrasing"]]
    texts = [rng.choice(CHATTER) for _ in range(6)]
    texts += [f"working on {words} today" if i % 2 == 0 else f"anyone with {words} experience around?" for i in range(3)]
    messages[m["userId"]] = texts

out = {
    "members": [{"userId": m["userId"], "team": m["team"], "skills": m["skills"], "consent": m["consent"]} for m in members],
    "catalysts": catalysts, "messages": messages, "signals": signals, "pairs": pairs,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "collaborators-planted.json")
with open(path, "w") as f:
    json.dump(out, f, indent=0, sort_keys=True)
print(f"{len(members)} members, {len(signals)} signals, {len(catalysts)} catalysts, {len(pairs)} planted pairs -> {path}")
