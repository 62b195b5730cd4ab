"""Deterministic demo community for Convener, loaded through the public API (stdlib only)."""
import json
import os
import random
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

API = os.environ["API_URL"].rstrip("/")
OPERATOR = os.environ["OPERATOR_KEY"]
TENANT_NAME = os.environ.get("COMMUNITY_TENANT", "convener-demo")
TEAMS = ["platform", "payments", "mobile", "data", "design", "support", "sales", "security", "growth", "infra"]
PER_TEAM = 24
DAYS = 120
rng = random.Random(20260301)
now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)


def call(method, path, token, body=None, ok=(200, 201, 202, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(API + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            raw = r.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return None
        sys.exit(f"{method} {path} -> {e.code}: {e.read().decode()[:500]}")


def tenant_key():
    after = None
    while True:
        page = call("GET", "/v1/tenants?limit=1000" + (f"&after={after}" if after else ""), OPERATOR)
        for t in page["tenants"]:
            if t["name"] == TENANT_NAME:
                return t["id"], call("POST", f"/v1/tenants/{t['id']}/api-keys", OPERATOR)["apiKey"]
        after = page.get("next")
        if not after:
            break
    t = call("POST", "/v1/tenants", OPERATOR, {"name": TENANT_NAME})
    return t["id"], t["apiKey"]


tenant_id, key = tenant_key()
print(f"tenant {TENANT_NAME} {tenant_id}")

FIRST = ["Ada", "Ben", "Cai", "Dee", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Max", "Noa", "Oli", "Pia",
         "Quin", "Ravi", "Sam", "Tess", "Uma", "Vik", "Wen", "Xia", "Yui", "Zed"]
LAST = ["Okafor", "Silva", "Nguyen", "Kowalski", "Haddad", "Ito", "Moreau", "Novak", "Patel", "Larsen", "Mensah", "Ortiz"]
SKILLS = ["go", "c#", "sql", "react", "ux", "kubernetes", "ml", "writing", "coaching", "security", "sales", "analytics"]
members = []
for t, team in enumerate(TEAMS):
    for i in range(PER_TEAM):
        uid = f"{team}-{i:02d}"
        roles = ["team_lead"] if i == 0 else []
        members.append((uid, team))
        call("PUT", f"/v1/community/members/{uid}", key, {
            "displayName": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "team": team,
            "org": "engineering" if t < 5 else "business", "cohort": f"{2021 + i % 5}",
            "skills": rng.sample(SKILLS, 3), "roles": roles})
print(f"members {len(members)} in {len(TEAMS)} teams")

tokens = {}
def token(uid, roles=("member",)):
    k = (uid, tuple(roles))
    if k not in tokens:
        tokens[k] = call("POST", f"/v1/users/{uid}/tokens", key, {"roles": list(roles), "ttlSeconds": 3600})["token"]
    return tokens[k]

# 90 % consent to recognition, 85 % to pulse (deterministic); the rest show the exclusions.
granted = 0
for uid, _ in members:
    for purpose, share in (("recognition", 0.9), ("pulse", 0.85)):
        if rng.random() < share:
            call("PUT", f"/v1/me/consents/{purpose}", token(uid), {"granted": True})
            granted += 1
print(f"consents {granted}")

# Signals: each team has two or three natural hubs; 75 % of ties stay in the team; activity dips in one team lately.
by_team = {team: [m for m, tm in members if tm == team] for team in TEAMS}
hubs = {team: by_team[team][:3] for team in TEAMS}
PHRASES = ["Thanks, this is great work!", "Love the new dashboard", "I am not sure this is right", "Blocked again, frustrating",
           "Nice fix, thank you", "Can someone help with the deploy?", "This is awful, the build is broken", "Good idea, let's try it",
           "Not bad at all", "Really helpful review, thanks"]
signals = []
for n in range(48000):
    actor, team = members[rng.randrange(len(members))]
    age = rng.random() ** 1.3 * DAYS
    if team == "support" and age < 30 and rng.random() < 0.6:
        continue  # a team whose activity dropped: pulse flags it
    at = now - timedelta(days=age, minutes=rng.randrange(1440))
    kind = rng.choices(["message", "reply", "mention", "reaction", "endorsement", "event_attendance", "learning_log"],
                       [30, 30, 12, 15, 5, 4, 4])[0]
    other_team = team if rng.random() < 0.75 else rng.choice(TEAMS)
    pool = hubs[other_team] if rng.random() < 0.35 else by_team[other_team]
    target = rng.choice(pool)
    if target == actor:
        target = rng.choice(by_team[other_team])
    s = {"kind": kind, "actorId": actor, "occurredAt": at.isoformat(), "sourceRef": f"seed-{n}"}
    if kind in ("reply", "mention", "reaction", "endorsement") and target != actor:
        s["targetId"] = target
    elif kind in ("reply", "mention", "reaction", "endorsement"):
        s["kind"] = "message"
    if s["kind"] in ("message", "reply"):
        s["text"] = rng.choice(PHRASES)
    signals.append(s)
stored = 0
for i in range(0, len(signals), 1000):
    stored += call("POST", "/v1/community/signals", key, {"signals": signals[i:i + 1000]})["stored"]
print(f"signals {len(signals)} sent, {stored} new")

manager = token("manager-1", ("community_manager",))
for team in TEAMS:
    lead = by_team[team][0]
    survey = call("POST", "/v1/pulse/surveys", token(lead, ("team_lead",)), {"title": f"{team} psychological safety Q1", "team": team})
    base = 3 if team == "support" else 5
    for uid in by_team[team][1:9]:
        answers = [max(1, min(7, base + rng.randint(-1, 1) if item not in (1, 3, 5) else 8 - base + rng.randint(-1, 1)))
                   for item in range(1, 8)]
        call("POST", f"/v1/pulse/surveys/{survey['id']}/responses", token(uid), {"answers": answers})

for c in range(6):
    team = TEAMS[c]
    call("POST", "/v1/learning/catalysts", manager, {
        "title": f"{team} brown-bag #{c + 1}", "tags": [team, rng.choice(SKILLS)],
        "contributors": rng.sample(by_team[team], 3), "outcomes": [{"kind": "adopted-practice", "teams": rng.sample(TEAMS, 2)}],
        "occurredAt": (now - timedelta(days=10 * c + 3)).isoformat()})

for i, team in enumerate(["platform", "data", "growth"]):
    originator = by_team[team][5]
    idea = call("POST", "/v1/innovation/ideas", token(originator), {"title": f"Idea {i + 1} from {team}", "team": team})
    adopted = [originator]
    for _ in range(14 - 4 * i):
        adopter = rng.choice([m for m, _ in members if m not in adopted])
        source = rng.choice(adopted)
        call("POST", f"/v1/innovation/ideas/{idea['id']}/adoptions", token(adopter),
             {"sourceAdopterId": None if source == originator else source})
        adopted.append(adopter)

call("POST", "/v1/champions/refresh", manager)
print("champion refresh requested; GET /v1/champions/discover with a community_manager token")
