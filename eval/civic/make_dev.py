#!/usr/bin/env python3
"""Writes the development part of the civic evaluation corpus (eval/civic/dev) with its ground truth.

Each document gets one house style (how its clerk writes motions and votes) and varied decisions: roll calls,
voice votes, tallies in digits or words, tabled / continued / referred / withdrawn / died motions, amendments,
substitutes, reconsideration, consent calendars with pulled items, recusals, abstentions, closed sessions.
Some are HTML with roll-call tables; some are PDFs made by real generators (groff's gropdf, and groff PostScript
through Ghostscript's ps2pdf), two-column or with running headers and footers. Deterministic (fixed seed).
Only needed to regenerate: `python3 eval/civic/make_dev.py` (needs groff and ghostscript for the PDFs).
"""
import html, json, os, random, shutil, subprocess, sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dev")
R = random.Random(20260304)

CITIES = ["Ashford", "Brookvale", "Carrington", "Dellwood", "Eastlake", "Fremont Hills", "Glenhaven", "Hartwell", "Ironton",
          "Juniper Springs", "Kingsport", "Laurel Bay", "Maple Ridge", "Northfield", "Oakhurst", "Pine Bluff", "Quarry Hill",
          "Redwater", "Silverton", "Thornbury", "Union Gap", "Valleyview", "Willow Creek", "Yarrow", "Zephyr Cove",
          "Ambrose", "Bayside", "Cold Spring", "Dover Heights", "Elm Grove", "Foxborough", "Granite Falls"]
SURNAMES = ["Abbott", "Barrera", "Castillo", "Delacroix", "Emerson", "Fitzgerald", "Gomez", "Hargrove", "Ishikawa", "Jensen",
            "Kowal", "Lindgren", "Mahoney", "Navarro", "Oduya", "Pellegrini", "Quarles", "Rasmussen", "Sato", "Thibodeaux",
            "Underwood", "Valdez", "Whitman", "Xu", "Yamada", "Zelinski", "Archer", "Bishop", "Cruz", "Dunbar", "Ellison", "Flores"]
BODIES = [("City Council", "Councilmember", "Mayor"), ("City Council", "Council Member", "Mayor"), ("Town Council", "Councilor", "Council President"),
          ("Board of Supervisors", "Supervisor", "Chair"), ("Board of Trustees", "Trustee", "President"), ("City Commission", "Commissioner", "Mayor"),
          ("Board of Aldermen", "Alderman", "Mayor"), ("Planning Commission", "Commissioner", "Chair"), ("City Council", "Councillor", "Mayor")]
KINDS = ["Regular", "Regular", "Regular", "Special", "Adjourned Regular"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

SUBJECTS = [
    ("adopt", "Adopted", "Resolution No. {y}-{n} approving the FY {y1} capital improvement budget", "Capital Improvement Budget"),
    ("approve", "Approved", "the professional services agreement with {co} for water main design in the amount of ${amt}", "Water Main Design"),
    ("award", "Awarded", "the construction contract for the {street} Street resurfacing project to {co}", "{street} Street Resurfacing"),
    ("introduce", "Introduced", "Ordinance No. {n} amending Chapter {c} of the Municipal Code regarding short-term rentals", "Short-Term Rental Ordinance"),
    ("adopt", "Adopted", "Ordinance No. {n} establishing a residential parking permit program", "Residential Parking Permits"),
    ("authorize", "Authorized", "the City Manager to execute a lease with {co} for the former fire station at {num} {street} Avenue", "Fire Station Lease"),
    ("deny", "Denied", "the appeal of the Planning Commission approval of the {street} Terrace subdivision", "{street} Terrace Appeal"),
    ("approve", "Approved", "the purchase of three hybrid patrol vehicles from {co} for ${amt}", "Patrol Vehicle Purchase"),
    ("accept", "Accepted", "the state Active Transportation Program grant of ${amt} for the {street} Boulevard bike lanes", "Bike Lane Grant"),
    ("adopt", "Adopted", "Resolution No. {y}-{n} setting the sewer service charges for fiscal year {y1}", "Sewer Service Charges"),
    ("approve", "Approved", "the memorandum of understanding with the {city} Firefighters Association", "Firefighter Labor Agreement"),
    ("direct", "Directed", "staff to prepare an ordinance banning gas-powered leaf blowers", "Leaf Blower Ordinance"),
    ("approve", "Approved", "Tentative Parcel Map {n} for {num} {street} Road", "Parcel Map {n}"),
    ("adopt", "Adopted", "the {city} Climate Action Plan and certify the negative declaration", "Climate Action Plan"),
    ("approve", "Approved", "a budget amendment of ${amt} for the library roof replacement", "Library Roof"),
    ("award", "Awarded", "the janitorial services contract to {co} for a three-year term", "Janitorial Contract"),
    ("adopt", "Adopted", "Resolution No. {y}-{n} declaring the intent to form Lighting District No. {c}", "Lighting District"),
    ("approve", "Approved", "the site plan for the {co} distribution warehouse at {num} {street} Way", "Warehouse Site Plan"),
    ("authorize", "Authorized", "the sale of surplus property at {num} {street} Court to the highest bidder", "Surplus Property Sale"),
    ("adopt", "Adopted", "the Local Hazard Mitigation Plan update", "Hazard Mitigation Plan"),
    ("approve", "Approved", "the cooperative agreement with {city} County for animal shelter services", "Animal Shelter Agreement"),
    ("introduce", "Introduced", "Ordinance No. {n} regulating sidewalk vending", "Sidewalk Vending Ordinance"),
    ("appoint", "Appointed", "{person} to the Parks and Recreation Commission", "Parks Commission Appointment"),
    ("approve", "Approved", "the final map for Tract {n} ({street} Meadows)", "Tract {n}"),
    ("adopt", "Adopted", "the revised investment policy for fiscal year {y1}", "Investment Policy"),
    ("approve", "Approved", "the fee waiver for the {city} Harvest Festival", "Harvest Festival Fee Waiver"),
]
COMPANIES = ["Granite Pacific, Inc.", "Blue Heron Engineering", "Mesa Civil Contractors", "Northstar Fleet Services", "Tidewater Consulting Group",
             "Coastline Paving Co.", "Summit Facilities LLC", "Redline Logistics", "Evergreen Builders", "Apex Municipal Supply"]
STREETS = ["Oak", "Cedar", "Maple", "Mission", "Harbor", "Lincoln", "Sunset", "Ridge", "Willow", "Granada", "Pacific", "Canyon"]
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def fill(s, ctx):
    return s.format(**ctx)


def member_list(names, titled, prefix, presider):
    return names


class Doc:
    def __init__(self, idx):
        self.idx = idx
        self.city = CITIES[idx % len(CITIES)]
        self.body, self.title, self.presider_title = R.choice(BODIES)
        self.kind = R.choice(KINDS)
        size = R.choice([5, 5, 7, 7, 6, 9])
        names = R.sample(SURNAMES, size)
        self.presider = names[-1]
        self.members = names
        self.absent = [names[R.randrange(size - 1)]] if R.random() < 0.3 else []
        self.present = [n for n in names if n not in self.absent]
        self.year = R.choice([2025, 2026])
        self.month = R.randrange(1, 13)
        self.day = R.randrange(1, 29)
        self.weekday = WEEKDAYS[__import__("datetime").date(self.year, self.month, self.day).weekday()]
        self.style = R.choice(["narrative", "moved-by", "motion-lines", "rollcall-block", "canadian", "action", "voice", "voted"])
        self.subjects = R.sample(SUBJECTS, len(SUBJECTS))
        self.lines = []
        self.decisions = []
        self.item = 0

    def who(self, n):
        return f"{self.presider_title} {n}" if n == self.presider else f"{self.title} {n}"

    def date_text(self):
        m = MONTHS[self.month - 1]
        v = R.randrange(7)
        if v == 0: return f"{self.weekday}, {m} {self.day}, {self.year}"
        if v == 1: return f"{m} {self.day}, {self.year}"
        if v == 2: return f"{self.month}/{self.day}/{self.year}"
        if v == 3: return f"{self.year}-{self.month:02d}-{self.day:02d}"
        if v == 4:
            suf = "th" if 11 <= self.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(self.day % 10, "th")
            return f"held on the {self.day}{suf} day of {m}, {self.year}"
        if v == 5: return f"{m.upper()} {self.day}, {self.year}"
        return f"{self.weekday}, {self.day} {m} {self.year}"

    def subject(self):
        verb, past, obj, topic = self.subjects.pop()
        ctx = dict(y=self.year, y1=f"{self.year}-{(self.year + 1) % 100:02d}", n=R.randrange(100, 999), c=R.randrange(2, 19),
                   co=R.choice(COMPANIES), amt=f"{R.randrange(20, 900)},{R.randrange(0, 999):03d}", street=R.choice(STREETS),
                   num=R.randrange(100, 9000), city=self.city, person=f"{R.choice(['Alicia', 'Ben', 'Carmen', 'Derek', 'Elena'])} {R.choice(SURNAMES)}")
        return verb, past, fill(obj, ctx), fill(topic, ctx)

    def heading(self, topic):
        self.item += 1
        v = self.style
        if v in ("narrative", "voice"): return topic
        if v == "canadian": return f"{self.item}. {topic}"
        return f"{self.item}. {topic.upper()}"

    def vote(self, kind="motion", force=None):
        """Picks who votes how; returns (ayes, nays, abstain, recused, aye_names, nay_names, abstain_names, outcome)."""
        voters = list(self.present)
        recused = []
        if R.random() < 0.1:
            recused = [R.choice(voters[:-1])]
            voters = [v for v in voters if v not in recused]
        abstain_names = [R.choice(voters)] if R.random() < 0.12 else []
        voters = [v for v in voters if v not in abstain_names]
        R.shuffle(voters)
        if force == "tie" and len(voters) % 2 == 0:
            k = len(voters) // 2
        elif force == "fail":
            k = R.randrange(0, len(voters) // 2 + (0 if len(voters) % 2 else 0))
        else:
            k = R.choice([len(voters)] * 4 + [len(voters) - 1, len(voters) - 2, len(voters) // 2 + 1, len(voters) // 2])
        ayes, nays = voters[:k], voters[k:]
        outcome = "carried" if len(ayes) > len(nays) else "failed"
        return dict(ayes=ayes, nays=nays, abstain=abstain_names, recused=recused, outcome=outcome)

    def tally_text(self, v, words=False):
        a, n, ab = len(v["ayes"]), len(v["nays"]), len(v["abstain"])
        if words:
            return f"{NUMBERS[a]} to {NUMBERS[n]}"
        return f"{a}-{n}" + (f"-{ab}" if ab else "")

    def notes(self, v):
        parts = []
        if v["nays"] and len(v["ayes"]) >= len(v["nays"]):
            parts.append(", ".join(v["nays"]) + (" opposed" if R.random() < 0.5 else " voting no"))
        elif v["nays"]:
            parts.append(", ".join(v["nays"]) + " opposed")
        if v["abstain"]:
            parts.append(f"{v['abstain'][0]} abstaining")
        if v["recused"]:
            parts.append(f"{v['recused'][0]} recused")
        if self.absent and R.random() < 0.5:
            parts.append(f"{self.absent[0]} absent")
        return f" ({'; '.join(parts)})" if parts else ""

    def vote_sentence(self, v, subject="The motion"):
        a, n = len(v["ayes"]), len(v["nays"])
        unanimous = n == 0 and not v["abstain"]
        word = R.choice(["carried", "passed"]) if v["outcome"] == "carried" else "failed"
        r = R.randrange(8)
        if unanimous and r < 2:
            return f"{subject} carried unanimously.", (None, None, None)
        if unanimous and r == 2:
            return f"{subject} {word} unanimously, {self.tally_text(v)}.", (a, n, 0)
        if r == 3:
            return f"{subject} {word} by a vote of {self.tally_text(v, True)}{self.notes(v)}.", (a, n, len(v['abstain']) or None)
        if r == 4:
            return f"The vote was {NUMBERS[a]} in favor and {NUMBERS[n]} opposed; {subject.lower()} {word}.", (a, n, None)
        if r == 5 and v["outcome"] == "failed" and a == n:
            return f"{subject} failed on a tie vote, {a}-{n}{self.notes(v)}.", (a, n, len(v['abstain']) or None)
        return f"{subject} {word} {self.tally_text(v)}{self.notes(v)}.", (a, n, len(v["abstain"]) or None)

    def roll_block(self, v):
        def names(x): return ", ".join(x) if x else "None"
        lines = [f"AYES: {names(v['ayes'])}", f"NOES: {names(v['nays'])}"]
        if v["abstain"] or R.random() < 0.5: lines.append(f"ABSTAIN: {names(v['abstain'])}")
        lines.append(f"ABSENT: {names(self.absent)}")
        if v["recused"]: lines.append(f"RECUSED: {names(v['recused'])}")
        return lines, (len(v["ayes"]), len(v["nays"]), len(v["abstain"]) or None)

    def add_decision(self, anchor, outcome, tally, mover, seconder, kind="motion"):
        a, n, ab = tally
        d = dict(anchor=anchor, kind=kind, outcome=outcome, ayes=a, nays=n, mover=mover, seconder=seconder)
        if ab: d["abstain"] = ab
        self.decisions.append(d)

    def motion(self, verb, obj, mover, seconder, v, kind="motion", prefix=None):
        """Writes one motion and its vote in the document's style; returns the anchor."""
        st = self.style
        what = prefix or f"to {verb} {obj}"
        if st == "narrative":
            if kind == "motion" and R.random() < 0.5:
                past = [p for (vb, p, _, _) in SUBJECTS if vb == verb][0].lower()
                self.lines.append(f"On motion by {self.who(mover)}, seconded by {self.who(seconder)}, the {self.body} {past} {obj}.")
                s, t = self.vote_sentence(v)
                self.lines[-1] += " " + s
                what = obj
            else:
                self.lines.append(f"{self.who(mover)} moved {what}; {self.who(seconder)} seconded.")
                s, t = self.vote_sentence(v, "The amendment" if kind == "amendment" else "The motion")
                self.lines[-1] += " " + s
        elif st == "moved-by":
            self.lines.append(f"It was moved by {self.who(mover)} and seconded by {self.who(seconder)} {what}.")
            s, t = self.vote_sentence(v, "Motion")
            self.lines.append(s)
        elif st == "motion-lines":
            self.lines.append(f"MOTION: {mover} / SECOND: {seconder} {what}.")
            s, t = self.vote_sentence(v, "Motion")
            self.lines.append(s)
        elif st == "rollcall-block":
            self.lines.append(f"{self.who(mover)} moved, seconded by {self.who(seconder)}, {what}. The motion {'carried' if v['outcome'] == 'carried' else 'failed'} by the following roll call vote:")
            block, t = self.roll_block(v)
            self.lines.extend(block)
        elif st == "canadian":
            self.lines.append(f"Moved by {self.title} {mover}")
            self.lines.append(f"Seconded by {self.title} {seconder}")
            self.lines.append(f"THAT the {self.body} {verb} {obj}.")
            if R.random() < 0.5 or v["nays"]:
                self.lines.append(f"Recorded vote: For: {', '.join(v['ayes']) or 'None'}. Against: {', '.join(v['nays']) or 'None'}.")
                t = (len(v["ayes"]), len(v["nays"]), len(v["abstain"]) or None)
            else:
                t = (None, None, None) if not v["abstain"] else (len(v["ayes"]), 0, len(v["abstain"]))
            self.lines.append("CARRIED" if v["outcome"] == "carried" else "DEFEATED")
        elif st == "action":
            word = {"carried": "Approved", "failed": "Failed"}[v["outcome"]]
            if verb == "deny" and v["outcome"] == "carried": word = "Appeal denied"
            self.lines.append(f"Recommended action: {verb.capitalize()} {obj}.")
            self.lines.append(f"ACTION: {word} ({self.tally_text(v)}{self.notes(v).replace(' (', '; ').rstrip(')') if self.notes(v) else ''}) - Motion: {mover}; Second: {seconder}")
            t = (len(v["ayes"]), len(v["nays"]), len(v["abstain"]) or None)
            what = obj
        elif st == "voice":
            self.lines.append(f"Motion by {self.title} {mover}, second by {self.title} {seconder}, {what}.")
            if v["nays"] or R.random() < 0.4:
                calls = ", ".join(f"{n} {'aye' if n in v['ayes'] else 'nay' if n in v['nays'] else 'abstain'}" for n in self.present if n not in v["recused"])
                self.lines.append(f"Roll call: {calls}. Motion {'carried' if v['outcome'] == 'carried' else 'failed'}.")
                t = (len(v["ayes"]), len(v["nays"]), len(v["abstain"]) or None)
            else:
                self.lines.append(R.choice(["Voice vote: all in favor. Motion carried.", "All ayes. Motion carried.", "Motion carried on a voice vote."]))
                t = (None, None, None)
        else:  # voted
            words = R.random() < 0.3
            dissent = self.notes(v)
            self.lines.append(f"On a motion by {self.who(mover)}, seconded by {self.who(seconder)}, the {self.body} voted {self.tally_text(v, words)}{dissent} {what}.")
            t = (len(v["ayes"]), len(v["nays"]), len(v["abstain"]) or None)
            if v["outcome"] == "failed":
                self.lines.append("The motion failed.")
        anchor = f"{verb.capitalize()} {obj}" if st == "action" else f"{verb} {obj}" if st == "canadian" else what
        self.add_decision(anchor[:60], v["outcome"], t, mover, seconder, kind)

    def build(self):
        L = self.lines
        L.append(f"{'CITY' if 'Town' not in self.body else 'TOWN'} OF {self.city.upper()}")
        head = R.randrange(3)
        if head == 0:
            L.append(f"MINUTES OF THE {self.kind.upper()} MEETING OF THE {self.body.upper()}")
            L.append(self.date_text())
        elif head == 1:
            L.append(f"{self.city} {self.body} - {self.kind} Meeting Minutes")
            L.append(f"Meeting date: {self.date_text()}")
        else:
            L.append(f"{self.body} {self.kind} Meeting")
            L.append(f"Minutes of the meeting {self.date_text()}, 7:00 p.m.")
        L.append("")
        L.append(self.heading("Call to Order"))
        L.append(f"{self.presider_title} {self.presider} called the meeting to order at 7:0{R.randrange(10)} p.m.")
        L.append(self.heading("Roll Call"))
        L.append(f"Present: {', '.join(self.present)}. Absent: {', '.join(self.absent) or 'None'}.")
        if R.random() < 0.4:
            L.append(self.heading("Closed Session Report"))
            L.append(R.choice(["The City Attorney reported that there was no reportable action taken in closed session.",
                               "The Council met in closed session regarding real property negotiations. Nothing to report."]))
        L.append(self.heading("Public Comment"))
        L.append(f"{R.randrange(1, 6)} speakers addressed the {self.body} on items not on the agenda, including parking and street trees.")
        # consent calendar (sometimes with a pulled item)
        pulled = None
        if R.random() < 0.6:
            L.append(self.heading("Consent Calendar"))
            for k in "ABCD":
                L.append(f"{self.item}{k}. {R.choice(['Minutes of the previous meeting', 'Warrant register', 'Treasurer report', 'Second reading of Ordinance No. ' + str(R.randrange(100, 999)), 'Acceptance of public improvements'])}")
            if R.random() < 0.5:
                pulled = f"{self.item}C"
                L.append(f"{self.who(R.choice(self.present))} asked that Item {pulled} be pulled for separate discussion.")
            m, s = R.sample(self.present, 2)
            what = "to approve the Consent Calendar" + (f" except Item {pulled}" if pulled else " as presented")
            v = self.vote()
            v["outcome"] = "carried"
            if len(v["ayes"]) <= len(v["nays"]):
                v["ayes"], v["nays"] = v["ayes"] + v["nays"], []
            self.motion("approve", "the Consent Calendar", m, s, v, prefix=what)
            if pulled:
                L.append(f"Item {pulled}.")
                m, s = R.sample(self.present, 2)
                self.motion("approve", f"Item {pulled}", m, s, self.vote(), prefix=f"to approve Item {pulled}")
        n_items = R.randrange(3, 6)
        for _ in range(n_items):
            verb, past, obj, topic = self.subject()
            L.append(self.heading(topic))
            L.append(R.choice(["Staff presented the report and answered questions.", "The Director presented the item.",
                               f"{R.randrange(1, 9)} members of the public spoke on the item.", ""]))
            m, s = R.sample(self.present, 2)
            special = R.random()
            if special < 0.12 and self.style not in ("action", "canadian"):
                self.lines.append(f"{self.who(m)} moved to table the item; seconded by {self.who(s)}.")
                v = self.vote()
                sent, t = self.vote_sentence(v, "The motion to table")
                self.lines.append(sent)
                self.add_decision("moved to table the item", "tabled" if v["outcome"] == "carried" else "failed", t, m, s)
            elif special < 0.22:
                date = f"{R.choice(MONTHS)} {R.randrange(1, 29)}"
                what = R.choice([f"to continue the item to {date}", f"to postpone the item to {date}"])
                v = self.vote()
                if self.style in ("action",):
                    self.lines.append(f"ACTION: Continued to {date} ({self.tally_text(v)}) - Motion: {m}; Second: {s}")
                    self.add_decision(f"Continued to {date}", "continued", (len(v['ayes']), len(v['nays']), len(v['abstain']) or None), m, s)
                else:
                    self.lines.append(f"{self.who(m)} moved {what}, seconded by {self.who(s)}.")
                    sent, t = self.vote_sentence(v)
                    self.lines.append(sent)
                    self.add_decision(what, "continued" if v["outcome"] == "carried" else "failed", t, m, s)
            elif special < 0.30 and self.style not in ("action", "canadian"):
                committee = R.choice(["the Finance Committee", "the Planning Commission", "the Public Works Committee"])
                self.lines.append(f"{self.who(m)} moved to refer the matter to {committee}; {self.who(s)} seconded.")
                v = self.vote()
                sent, t = self.vote_sentence(v)
                self.lines.append(sent)
                self.add_decision(f"to refer the matter to {committee}", "referred" if v["outcome"] == "carried" else "failed", t, m, s)
            elif special < 0.36 and self.style not in ("action", "canadian"):
                self.lines.append(f"{self.who(m)} moved to {verb} {obj}; {self.who(s)} seconded. Following discussion, {self.who(m)} withdrew the motion.")
                self.add_decision(f"to {verb} {obj}"[:60], "withdrawn", (None, None, None), m, s)
            elif special < 0.41 and self.style not in ("action", "canadian"):
                self.lines.append(f"{self.who(m)} moved to {verb} {obj}. The motion died for lack of a second.")
                self.add_decision(f"to {verb} {obj}"[:60], "failed", (None, None, None), m, None)
            elif special < 0.55 and self.style not in ("action", "canadian"):
                # amendment first, then the main motion as amended
                if self.style == "motion-lines":
                    self.lines.append(f"MOTION: {m} / SECOND: {s} to {verb} {obj}.")
                elif self.style == "moved-by":
                    self.lines.append(f"It was moved by {self.who(m)} and seconded by {self.who(s)} to {verb} {obj}.")
                else:
                    self.lines.append(f"{self.who(m)} moved to {verb} {obj}; {self.who(s)} seconded.")
                main = dict(anchor=f"to {verb} {obj}"[:60], kind="motion", outcome="", ayes=None, nays=None, mover=m, seconder=s)
                a_m, a_s = R.sample(self.present, 2)
                change = R.choice(["to require quarterly progress reports", "to cap the contract at three years", "to add a sunset date of 2030"])
                va = self.vote()
                self.lines.append(f"{self.who(a_m)} moved to amend the motion {change}; seconded by {self.who(a_s)}.")
                sent, t = self.vote_sentence(va, "The amendment")
                self.lines.append(sent)
                self.add_decision(f"to amend the motion {change}", "carried" if va["outcome"] == "carried" else "failed", t, a_m, a_s, "amendment")
                vm = self.vote()
                sent, t = self.vote_sentence(vm, "The main motion, as amended," if va["outcome"] == "carried" else "The main motion")
                self.lines.append(sent)
                main.update(outcome=vm["outcome"], ayes=t[0], nays=t[1])
                main.pop("abstain", None)
                if t[2]: main["abstain"] = t[2]
                self.decisions.append(main)
            else:
                force = "tie" if R.random() < 0.1 else "fail" if R.random() < 0.12 else None
                self.motion(verb, obj, m, s, self.vote(force=force))
        if R.random() < 0.2 and self.style not in ("action", "canadian"):
            verb, past, obj, topic = self.subject()
            L.append(self.heading("Reconsideration"))
            m, s = R.sample(self.present, 2)
            self.lines.append(f"{self.who(m)} moved to reconsider the vote on the {topic.lower()}; seconded by {self.who(s)}.")
            v = self.vote()
            sent, t = self.vote_sentence(v, "The motion to reconsider")
            self.lines.append(sent)
            self.add_decision("moved to reconsider the vote", "carried" if v["outcome"] == "carried" else "failed", t, m, s, "reconsideration")
        L.append(self.heading("Council Comments" if "Council" in self.body else "Member Comments"))
        L.append(f"{self.who(R.choice(self.present))} thanked staff for the holiday lights event.")
        L.append(self.heading("Adjournment"))
        L.append(f"The meeting was adjourned at {R.randrange(8, 11)}:{R.randrange(10, 59)} p.m.")
        return "\n".join(l for l in L) + "\n"


def to_html(doc, text):
    out = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Minutes</title><style>td{padding:2px}</style></head><body>"]
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith(("AYES:", "NOES:", "ABSTAIN:", "ABSENT:", "RECUSED:")):
            k, v = line.split(":", 1)
            out.append(f"<table><tr><td>{k}:</td><td>{html.escape(v.strip())}</td></tr></table>")
        elif line[:1].isdigit() and ". " in line[:5]:
            out.append(f"<h3>{html.escape(line)}</h3>")
        else:
            out.append(f"<p>{html.escape(line)}</p>")
    out.append("<footer>Posted by the City Clerk</footer></body></html>")
    return "\n".join(out) + "\n"


def to_ms(doc, text, two_column, header):
    out = [".nh", ".ad l", ".ds CH", ".ds CF"]
    if header:
        out += [f".ds LH {doc.city} {doc.body} Minutes", ".ds RH", ".ds CF Page %", ".nr PS 12", ".nr VS 16"]
    lines = text.split("\n")
    out += [".LP", r"\fB" + lines[0] + r"\fP", ".br", lines[1], ".br", lines[2]]
    if two_column:
        out.append(".2C")
    for line in lines[3:]:
        if not line:
            continue
        out.append(".LP")
        out.append(line.replace("\\", "\\\\").replace("'", "\\'") if not line.startswith(".") else "\\&" + line)
    return "\n".join(out) + "\n"


def main():
    # Hand-written development minutes (hand-*) stay; everything else is regenerated.
    hand = json.load(open(os.path.join(os.path.dirname(OUT), "dev-hand-truth.json")))
    if os.path.isdir(OUT):
        for f in os.listdir(OUT):
            if not f.startswith("hand-"):
                p = os.path.join(OUT, f)
                shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    os.makedirs(os.path.join(OUT, "src"))
    truth = list(hand)
    for i in range(32):
        doc = Doc(i)
        text = doc.build()
        base = f"{doc.city.lower().replace(' ', '-')}-{i:02d}"
        fmt = "pdf-gropdf" if i % 8 == 3 else "pdf-ghostscript" if i % 8 == 6 else "html" if i % 4 == 1 else "txt"
        if fmt == "txt":
            name = base + ".txt"
            open(os.path.join(OUT, name), "w").write(text)
        elif fmt == "html":
            name = base + ".html"
            open(os.path.join(OUT, name), "w").write(to_html(doc, text))
        else:
            name = base + ".pdf"
            ms = to_ms(doc, text, two_column=fmt == "pdf-gropdf", header=fmt == "pdf-ghostscript")
            src = os.path.join(OUT, "src", base + ".ms")
            open(src, "w").write(ms)
            if fmt == "pdf-gropdf":
                pdf = subprocess.run(["groff", "-ms", "-Tpdf", src], check=True, capture_output=True).stdout
            else:
                ps = subprocess.run(["groff", "-ms", "-Tps", src], check=True, capture_output=True).stdout
                pdf = subprocess.run(["ps2pdf", "-", "-"], input=ps, check=True, capture_output=True).stdout
            open(os.path.join(OUT, name), "wb").write(pdf)
        truth.append(dict(file=name, body=doc.body, kind=doc.kind.lower(), date=f"{doc.year}-{doc.month:02d}-{doc.day:02d}",
                          style=doc.style, decisions=doc.decisions))
    json.dump(dict(set="dev", generator="make_dev.py", documents=truth), open(os.path.join(OUT, "truth.json"), "w"), indent=1)
    print(f"{len(truth)} documents, {sum(len(d['decisions']) for d in truth)} decisions")


if __name__ == "__main__":
    main()
