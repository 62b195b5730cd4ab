#!/usr/bin/env python3
"""Deterministic demo program data for one company: a year of buddy, language, mentorship and upskilling activity.

Usage: generate.py <company-key> <out-dir> [participants] [volunteers] [start YYYY-MM]
Writes participants.csv, sessions.csv, checkins.csv, feedback.csv, courses.csv in the column formats of docs/impact.md.
Notes and feedback are drawn from seeds/impact/evaluation.jsonl: early months lean on texts with negative labels,
later months on positive ones, so the report shows outcomes improving over the year.
"""
import csv, json, os, random, sys
from datetime import date, timedelta

key, out = sys.argv[1], sys.argv[2]
n_participants = int(sys.argv[3]) if len(sys.argv) > 3 else 120
n_volunteers = int(sys.argv[4]) if len(sys.argv) > 4 else 24
start = date.fromisoformat((sys.argv[5] if len(sys.argv) > 5 else "2025-12") + "-01")
rng = random.Random(f"teei-{key}")
here = os.path.dirname(os.path.abspath(__file__))

texts = [json.loads(l) for l in open(os.path.join(here, "evaluation.jsonl"), encoding="utf-8")]
def polarity(t):
    labels = t["labels"].values()
    return sum(1 for v in labels if v == "positive") - sum(1 for v in labels if v == "negative")
positive = [t["text"] for t in texts if polarity(t) > 0]
negative = [t["text"] for t in texts if polarity(t) < 0]
neutral = [t["text"] for t in texts if polarity(t) == 0]

first = ["Amira", "Jonas", "Hana", "Omar", "Lina", "Yusuf", "Maja", "Tariq", "Sofia", "Ali", "Nour", "Erik", "Fatima", "Karim", "Ines", "Dawit"]
last = ["Haddad", "Berg", "Novak", "Rahimi", "Lind", "Osman", "Kowalska", "Nilsen", "Haile", "Sato", "Moreno", "Dahl"]
programs = ["buddy", "language", "mentorship", "upskilling"]
courses = ["Norwegian A2", "Excel basics", "Customer service", "Forklift licence", "Intro to coding"]

def day_in(month_index):
    first_day = date(start.year + (start.month - 1 + month_index) // 12, (start.month - 1 + month_index) % 12 + 1, 1)
    return first_day + timedelta(days=rng.randrange(0, 28))

def writer(name, header):
    f = open(os.path.join(out, name), "w", newline="", encoding="utf-8")
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    return f, w

os.makedirs(out, exist_ok=True)
f, w = writer("participants.csv", ["source", "external_id", "role", "name", "email", "program", "enrolled_at"])
people = []
for i in range(n_participants):
    fn, ln = rng.choice(first), rng.choice(last)
    program = rng.choice(programs)
    joined = rng.randrange(0, 6)
    people.append((f"{key}-p{i:05d}", program, joined))
    email = f"{fn.lower()}.{ln.lower()}.{key}{i}@example.org"
    w.writerow(["buddy", f"{key}-p{i:05d}", "participant", f"{fn} {ln}", email, program, day_in(joined).isoformat()])
    # The upskilling connector knows the same person under its own id; the e-mail joins them into one profile.
    w.writerow(["upskilling", f"u-{key}-{i:05d}", "participant", f"{fn} {ln}", email, "", ""])
volunteers = []
for i in range(n_volunteers):
    fn, ln = rng.choice(first), rng.choice(last)
    volunteers.append(f"{key}-v{i:04d}")
    w.writerow(["buddy", f"{key}-v{i:04d}", "volunteer", f"{fn} {ln}", f"{fn.lower()}.{ln.lower()}.{key}v{i}@example.org", "buddy", day_in(0).isoformat()])
f.close()

fs, ws = writer("sessions.csv", ["source", "session_id", "program", "participant_id", "volunteer_id", "date", "minutes"])
fc, wc = writer("checkins.csv", ["source", "checkin_id", "participant_id", "date", "mood", "note"])
ff, wf = writer("feedback.csv", ["source", "feedback_id", "from_id", "about_id", "date", "rating", "text"])
fk, wk = writer("courses.csv", ["source", "record_id", "participant_id", "course", "progress", "completed_at", "credential"])
s = c = fb = 0
for pid, program, joined in people:
    buddy = rng.choice(volunteers)
    for month in range(joined, 12):
        progress = (month - joined + 1) / (12 - joined)
        for _ in range(rng.randrange(1, 4)):
            s += 1
            session_program = program if program != "upskilling" else "mentorship"
            ws.writerow(["buddy", f"{key}-s{s:07d}", session_program, pid, buddy, day_in(month).isoformat(), rng.choice([30, 45, 60, 60, 90])])
        if rng.random() < 0.7:
            c += 1
            pool = negative if rng.random() > progress * 0.9 + 0.1 else positive
            if rng.random() < 0.15:
                pool = neutral
            mood = max(1, min(5, round(1 + 4 * progress + rng.uniform(-1, 1))))
            wc.writerow(["buddy", f"{key}-c{c:07d}", pid, day_in(month).isoformat(), mood, rng.choice(pool)])
        if rng.random() < 0.3:
            fb += 1
            pool = positive if rng.random() < 0.5 + progress / 2 else negative
            wf.writerow(["buddy", f"{key}-f{fb:07d}", pid, buddy, day_in(month).isoformat(), f"{min(1.0, 0.5 + progress / 2 + rng.uniform(-0.2, 0.1)):.2f}", rng.choice(pool)])
    if program == "upskilling" or rng.random() < 0.2:
        done = rng.random() < 0.6
        completed = day_in(min(11, joined + rng.randrange(2, 8))) if done else None
        wk.writerow(["upskilling", f"{pid}-course", "u-" + pid.replace("-p", "-"), rng.choice(courses), "1" if done else f"{rng.uniform(0.1, 0.9):.2f}",
                     completed.isoformat() if completed else "", f"CERT-{pid}" if done and rng.random() < 0.7 else ""])
for fh in (fs, fc, ff, fk):
    fh.close()
print(f"{key}: {n_participants} participants, {n_volunteers} volunteers, {s} sessions, {c} check-ins, {fb} feedback")
