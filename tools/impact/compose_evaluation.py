#!/usr/bin/env python3
"""Composes seeds/impact/evaluation.jsonl from hand-written sentences (written for this project).

Every sentence below carries its own gold labels (dimension -> +1 / -1); a text's label for a
dimension is positive/negative when its sentences agree, and 'absent' when none speaks to it.
Texts mixing sentences are how real check-in notes read: a mood, a bit of logistics, an outcome.
Standalone texts (STANDALONE) are full notes written as a whole, including hard cases.
Deterministic (seeded) so the file can be regenerated and diffed.
"""
import json, random

C, B, L, J, W = "confidence", "belonging", "lang_level_proxy", "job_readiness", "well_being"
# (text, {dim: +1/-1}); {n} = a participant's name, {p} = he/she, {pp} = his/her
POOL = [
 # confidence +
 ("I feel much more confident speaking in front of the group now.", {C: 1}),
 ("For the first time I dared to ask a question in the meeting.", {C: 1}),
 ("{n} spoke up twice during the session and led the role-play.", {C: 1}),
 ("I believe in myself more than I did in spring.", {C: 1}),
 ("{n} is no longer afraid to make phone calls on {pp} own.", {C: 1}),
 ("I am proud of myself for finishing the course.", {C: 1}),
 ("{n} took the lead in planning the group outing.", {C: 1}),
 ("My mentor says I seem braver, and I agree.", {C: 1}),
 ("I trust myself to handle the meetings at school now.", {C: 1}),
 ("{n} presented {pp} project to the class without notes.", {C: 1}),
 ("I feel capable of doing things independently now.", {C: 1}),
 ("She is really confident when she explains her work.", {C: 1}),
 # confidence -
 ("I still feel too shy to talk when there are many people.", {C: -1}),
 ("{n} froze when it was {pp} turn to present.", {C: -1}),
 ("I doubt myself all the time and think I am not good enough.", {C: -1}),
 ("{n} seemed insecure and avoided eye contact.", {C: -1}),
 ("I was embarrassed when I made a mistake in front of everyone.", {C: -1}),
 ("After the rejection I lost my confidence again.", {C: -1, J: -1}),
 ("{n} is hesitant to try anything new at the moment.", {C: -1}),
 ("I feel intimidated by the other participants.", {C: -1}),
 ("I get nervous and my mind goes blank.", {C: -1}),
 ("{n} was not confident enough to join the discussion.", {C: -1}),
 # belonging +
 ("Everyone in the group made me feel welcome from day one.", {B: 1}),
 ("I finally feel like I am part of this community.", {B: 1}),
 ("{n} has made friends with two other families from the course.", {B: 1}),
 ("I am not alone anymore, I have people to call.", {B: 1}),
 ("The volunteers treat us like family.", {B: 1}),
 ("{n} says {p} feels at home in the neighbourhood now.", {B: 1}),
 ("We cooked together and I felt included.", {B: 1}),
 ("My buddy introduced me to her friends at the library.", {B: 1}),
 ("{n} feels connected to the other parents at school.", {B: 1}),
 ("I feel that I belong here.", {B: 1}),
 ("The team was very welcoming to {n}.", {B: 1}),
 # belonging -
 ("I feel lonely most evenings.", {B: -1}),
 ("{n} told me {p} feels isolated in the new town.", {B: -1}),
 ("Nobody talks to me at the workplace.", {B: -1}),
 ("I often feel like an outsider in the group.", {B: -1}),
 ("{n} felt left out when the others spoke their own language.", {B: -1}),
 ("I don't know anyone here except my mentor.", {B: -1}),
 ("{n} says {p} is homesick and misses {pp} family.", {B: -1}),
 ("I was ignored at the team lunch.", {B: -1}),
 ("I feel excluded from the conversations at work.", {B: -1}),
 ("{n} still has no friends in the city.", {B: -1}),
 # language +
 ("I can follow the conversation at the doctor without an interpreter now.", {L: 1}),
 ("{n} passed the B1 test last week.", {L: 1}),
 ("I learned many new words this month.", {L: 1}),
 ("{n} now speaks Norwegian fluently in small talk.", {L: 1}),
 ("I understand most of what my colleagues say.", {L: 1}),
 ("I read the letter from the school without Google Translate.", {L: 1}),
 ("{n} can express {pp}self much better in English.", {L: 1}),
 ("My vocabulary has grown a lot.", {L: 1}),
 ("{n} made a phone call to the landlord in Norwegian.", {L: 1}),
 ("I can understand everything on the news now.", {L: 1}),
 ("{n}'s pronunciation has improved and {p} writes full sentences.", {L: 1}),
 # language -
 ("The language barrier is still the hardest part.", {L: -1}),
 ("I need a translator for every appointment.", {L: -1}),
 ("{n} finds the conversations hard to follow.", {L: -1}),
 ("People talk too fast and I misunderstand them.", {L: -1}),
 ("I forget words when I am under pressure.", {L: -1}),
 ("{n} struggles with the language at work.", {L: -1}),
 ("I can only say a few words in Norwegian.", {L: -1}),
 ("{n} still uses Google Translate for simple messages.", {L: -1}),
 ("I don't understand the teacher when she speaks quickly.", {L: -1}),
 ("Sometimes I can't find the words I need.", {L: -1}),
 # job +
 ("I updated my CV with my mentor.", {J: 1}),
 ("{n} had a job interview at the hotel on Monday.", {J: 1}),
 ("I applied for three positions this week.", {J: 1}),
 ("{n} got a job offer from a logistics company.", {J: 1}),
 ("I was hired as a kitchen assistant!", {J: 1}),
 ("We practised a mock interview and wrote a cover letter.", {J: 1}),
 ("{n} started an internship at the bakery.", {J: 1}),
 ("I received my forklift certificate.", {J: 1}),
 ("{n} feels ready to work and has contacted two employers.", {J: 1}),
 ("I made a LinkedIn profile and a recruiter contacted me.", {J: 1}),
 ("{n} signed a contract for part-time shifts.", {J: 1}),
 # job -
 ("I have been unemployed for a year.", {J: -1}),
 ("{n} got another rejection and feels discouraged.", {J: -1}),
 ("I applied many times but got no response.", {J: -1}),
 ("I don't know how to apply for jobs here.", {J: -1}),
 ("{n} lost {pp} job when the restaurant closed.", {J: -1}),
 ("Employers say I have no experience in this country.", {J: -1}),
 ("{n} gave up applying after the summer.", {J: -1}),
 ("I had no interviews this month.", {J: -1}),
 ("I am not ready for work yet.", {J: -1}),
 ("{n} was laid off in March.", {J: -1}),
 # well-being +
 ("I sleep better since I started the walking group.", {W: 1}),
 ("{n} seemed calm and relaxed today.", {W: 1}),
 ("I feel happier than I have in a long time.", {W: 1}),
 ("{n} laughed a lot during the session.", {W: 1}),
 ("I feel less stressed about the future.", {W: 1}),
 ("I am hopeful and have more energy.", {W: 1}),
 ("{n} was in a good mood and smiling.", {W: 1}),
 ("I feel better and I am grateful for the support.", {W: 1}),
 ("{n} says {p} is feeling good these days.", {W: 1}),
 ("I feel relieved after talking to someone.", {W: 1}),
 # well-being -
 ("I am very stressed about money.", {W: -1}),
 ("{n} looked exhausted and said {p} can't sleep.", {W: -1}),
 ("I feel anxious most of the day.", {W: -1}),
 ("{n} cried during the check-in.", {W: -1}),
 ("I am overwhelmed by everything I have to do.", {W: -1}),
 ("{n} seems depressed and withdrawn lately.", {W: -1, C: -1}),
 ("I worry about my family back home all the time.", {W: -1}),
 ("I feel tired and sad.", {W: -1}),
 ("{n} has trouble sleeping and feels hopeless.", {W: -1}),
 ("I had a panic attack before the appointment.", {W: -1}),
 # cross-dimension sentences
 ("Speaking English at work made me more confident.", {C: 1, L: 1}),
 ("I made friends at my new job and I feel happy.", {B: 1, J: 1, W: 1}),
 ("{n} is lonely and stressed since {p} lost {pp} job.", {B: -1, W: -1, J: -1}),
 ("I am not afraid to speak Norwegian in shops anymore.", {C: 1, L: 1}),
 ("The interview went well and I felt confident.", {J: 1, C: 1}),
 ("I feel calm now that I am part of a group.", {W: 1, B: 1}),
]
NEUTRAL = [
 "We met at the library at 10.", "The session was moved to Thursday.", "We talked about the bus timetable.",
 "Next meeting is in two weeks.", "{n} brought {pp} daughter to the session.", "We filled in the enrolment form.",
 "The room was booked until noon.", "We looked at the map of the city centre.", "{n} asked about the parking rules.",
 "We had coffee and went through the agenda.", "The course material arrived by post.", "We used the tablet for the exercises.",
 "I came by train today.", "{n} arrived a bit late because of the weather.", "We discussed the holiday schedule.",
 "We reviewed the homework from last time.", "The group is eight people this term.", "{n} asked for the slides.",
 "We planned the next three sessions.", "The check-in took about forty minutes.", "We talked about recipes from home.",
 "The weather was cold so we stayed inside.", "{n} showed me photos from the trip.", "We signed the attendance sheet.",
]
NAMES = ["Amina", "Yusuf", "Olena", "Dmytro", "Fatima", "Ahmad", "Maryam", "Tesfaye", "Lina", "Omar", "Iryna", "Samir",
         "Hana", "Kofi", "Rahel", "Bashir", "Nadia", "Taras", "Leyla", "Ibrahim"]
PRONOUNS = {"Amina": ("she", "her"), "Olena": ("she", "her"), "Fatima": ("she", "her"), "Maryam": ("she", "her"),
            "Lina": ("she", "her"), "Iryna": ("she", "her"), "Hana": ("she", "her"), "Rahel": ("she", "her"),
            "Nadia": ("she", "her"), "Leyla": ("she", "her")}

STANDALONE = [
 ("Honestly the course was fine. Nothing special to report.", {}),
 ("I used to be scared of job interviews, but last week I had one and it went really well.", {C: 1, J: 1}),
 ("My mentor is kind but I still feel like a stranger at work.", {B: -1}),
 ("Not much to say, we practised verbs and did a crossword.", {}),
 ("I never felt so welcome anywhere since I came here.", {B: 1}),
 ("I'm not lonely anymore and I sleep better.", {B: 1, W: 1}),
 ("The certificate helped, I now have two interviews booked.", {J: 1}),
 ("{n} doesn't seem stressed any more and is applying for jobs.", {W: 1, J: 1}),
 ("I feel like nobody understands me when I speak.", {L: -1}),
 ("It is hard to follow the meetings at work because everyone speaks so fast, and I feel left out.", {L: -1, B: -1}),
 ("The session was cancelled because of the strike.", {}),
 ("I can express myself in Norwegian now and people are welcoming.", {L: 1, B: 1}),
 ("{n} is proud of {pp} progress and is no longer shy in class.", {C: 1}),
 ("I feel exhausted from night shifts, but my employer is happy with me.", {W: -1, J: 1}),
 ("I don't feel confident yet, but I am less afraid than before.", {C: 0}),
 ("We mostly discussed the housing application.", {}),
 ("{n} told the group about {pp} first job and everybody cheered.", {J: 1}),
 ("I am worried that my Norwegian is not good enough for the B2 exam.", {W: -1, L: -1}),
 ("I am happy. Thank you for everything.", {W: 1}),
 ("The buddy programme gave me a friend for life.", {B: 1}),

 # Written after the cue lists were frozen (model 1.0.0) and not used to tune them: a held-out check.
 ("Yesterday I called the tax office myself and explained my problem in Norwegian. They understood me!", {L: 1, C: 1}),
 ("{n} arrived early, set up the chairs and chatted with everyone. It is clear that {p} enjoys the group.", {B: 1, W: 1}),
 ("I still wake up at 4 every night thinking about my mother in Kharkiv.", {W: -1}),
 ("My supervisor at the warehouse asked if I want more hours next month.", {J: 1}),
 ("We practised ordering in a cafe. {n} needed help with almost every word.", {L: -1}),
 ("Nobody from my course has written in the group chat for weeks, I feel forgotten.", {B: -1}),
 ("I finished the CV workshop but I don't think anyone will hire me with my age.", {J: -1}),
 ("{n} volunteered to translate for the new family, which shows how far {p} has come.", {L: 1, C: 1}),
 ("The kids have friends at school now and we are invited to birthday parties.", {B: 1}),
 ("I feel stronger. Last year I would not have dared to go to the interview alone.", {C: 1, J: 1}),
 ("Work is going okay but the night shifts leave me exhausted and irritable.", {W: -1}),
 ("{n} presented the group's recipe book at the library evening and got a big applause.", {C: 1}),
 ("We talked about how to write an email to the landlord. I wrote it myself in English.", {L: 1}),
 ("I am not sure I belong in this program, everyone else already speaks well.", {B: -1, L: -1}),
 ("Got the call: they want me for a trial day on Friday!", {J: 1}),
 ("{n} seemed low today and did not want to talk much.", {W: -1}),
 ("I am calmer since I started the swimming group with my buddy.", {W: 1, B: 1}),
 ("My English is still very basic and I panic when people answer quickly.", {L: -1, W: -1}),
 ("The employer said my Norwegian is good enough for the job.", {L: 1, J: 1}),
 ("{n} is thinking about quitting the course because {p} feels stupid in class.", {C: -1}),
 ("I sleep badly and I have headaches from the stress at the asylum centre.", {W: -1}),
 ("We finally have a group of women who meet every Sunday, I love it.", {B: 1}),
 ("My mentor helped me with the application for the nursing assistant program.", {J: 1}),
 ("{n} asked me to stop correcting {pp} pronunciation in front of others; {p} was embarrassed.", {C: -1}),
 ("I understand the bus announcements now, before I understood nothing.", {L: 1}),
 ("I have no one to talk to in the evenings since my roommate moved out.", {B: -1}),
 ("{n} is applying to three restaurants and has a reference from the internship.", {J: 1}),
 ("I feel good. Really good. The new apartment is quiet and the neighbours said hello.", {W: 1, B: 1}),
 ("Still no answer from any of the companies. I am losing hope.", {J: -1, W: -1}),
 ("{n} gave a short speech at the farewell party without reading from paper.", {C: 1}),
 ("The teacher says I can move up to the B1 class after summer.", {L: 1}),
 ("I don't feel like myself lately, everything is heavy.", {W: -1}),
 ("We went bowling with the whole team and {n} laughed the entire evening.", {W: 1, B: 1}),
 ("I am scared to make mistakes at work so I do not ask questions.", {C: -1}),
 ("The session was mostly about paperwork for the child benefit.", {}),
 ("{n} cancelled again, {p} says {p} has too much going on at home.", {W: -1}),
 ("My colleagues invited me for lunch and now we eat together every day.", {B: 1}),
 ("I can read children's books in Norwegian to my son now.", {L: 1}),
 ("I was nervous before the interview but I answered every question.", {C: 1, J: 1}),
 ("Nothing new this week, same routine as before.", {}),
]

# Training-only sentences for the embedding classifier (outcome-embed): more voices and wordings than POOL, so the
# classifier learns the outcome rather than the cue words. Never part of evaluation.jsonl; written before the
# classifier was first evaluated. The held-out parts (STANDALONE s021-s060, evaluation-heldout2.jsonl) are not here.
TRAINING_EXTRA = [
 ("Now I talk in the meetings, before I was only listen.", {C: 1}),
 ("I can do the appointments by myself, I don't need my brother anymore.", {C: 1}),
 ("{n} volunteered to read aloud in front of everybody.", {C: 1}),
 ("I said no to my boss for the first time and explained why.", {C: 1}),
 ("{n} walked into the job centre alone and asked for what {p} needed.", {C: 1, J: 1}),
 ("I feel I can handle whatever comes now.", {C: 1}),
 ("{n} keeps apologising for everything and won't look anyone in the eye.", {C: -1}),
 ("I want to ask but I am afraid I say something wrong.", {C: -1}),
 ("I think everyone here is smarter than me.", {C: -1}),
 ("{n} let the others answer for {pp} again.", {C: -1}),
 ("My hands shake when I have to talk to officials.", {C: -1, W: -1}),
 ("I dont like to speak, people will laugh at my accent.", {C: -1}),
 ("The ladies from the sewing circle saved me a seat.", {B: 1}),
 ("We have a WhatsApp group now and people message every day.", {B: 1}),
 ("{n} was invited to a colleague's wedding.", {B: 1}),
 ("When I walk in the street people greet me, I feel this is my town.", {B: 1}),
 ("{n} and the neighbour's family celebrate holidays together now.", {B: 1}),
 ("Nobody says hello to me in the building.", {B: -1}),
 ("At the break everyone speaks their language and I sit alone.", {B: -1}),
 ("I have nobody here, only my phone.", {B: -1}),
 ("{n} feels people look at {pp} like {p} does not belong.", {B: -1}),
 ("Weekends are the worst, I don't see a single person.", {B: -1}),
 ("I watched the news and I understood almost everything.", {L: 1}),
 ("{n} wrote the complaint letter in Norwegian with only two mistakes.", {L: 1}),
 ("Now I understand jokes at work, before I only smile.", {L: 1}),
 ("I can explain to the pharmacist what medicine I need.", {L: 1}),
 ("{n} switched from the beginner to the intermediate class.", {L: 1}),
 ("I speak to my kids' teacher without help now.", {L: 1}),
 ("When they answer me I don't catch anything.", {L: -1}),
 ("{n} answers in English because {p} cannot manage in Norwegian yet.", {L: -1}),
 ("I only know hello, thank you and sorry.", {L: -1}),
 ("The letters from the municipality I cannot read, I take photo and ask my friend.", {L: -1}),
 ("{n} still needs someone to interpret at the doctor.", {L: -1}),
 ("Words disappear from my head when someone waits for my answer.", {L: -1}),
 ("The warehouse wants me to start next month.", {J: 1}),
 ("{n} got through to the second round at the hotel.", {J: 1}),
 ("I sent five applications and got two calls back.", {J: 1}),
 ("{n} finished the forklift course and has an appointment with the agency.", {J: 1}),
 ("My boss says I can become team leader next year.", {J: 1}),
 ("I started working part-time at the daycare.", {J: 1}),
 ("They never call back, not one company.", {J: -1}),
 ("{n} was let go after the probation period.", {J: -1}),
 ("Without a driving licence nobody takes me.", {J: -1}),
 ("My papers from home are not valid here so I cannot work as a nurse.", {J: -1}),
 ("{n} stopped looking for work, {p} says there is no point.", {J: -1}),
 ("The agency told me to come back in six months.", {J: -1}),
 ("I feel light, like a stone is gone from my chest.", {W: 1}),
 ("{n} was cheerful and joking the whole time.", {W: 1}),
 ("I enjoy my mornings again, coffee on the balcony.", {W: 1}),
 ("The headaches are gone since I started walking every day.", {W: 1}),
 ("{n} says {p} finally feels at peace.", {W: 1}),
 ("I feel good, really, things are okay now.", {W: 1}),
 ("I can't stop thinking about the war, my head is full.", {W: -1}),
 ("{n} looked pale and said {p} has not eaten properly for days.", {W: -1}),
 ("Everything feels grey and heavy.", {W: -1}),
 ("I get angry for small things and then I feel bad.", {W: -1}),
 ("{n} has nightmares again since the letter from immigration.", {W: -1}),
 ("My body hurts and I have no energy for anything.", {W: -1}),
 ("Great, the bus was late again and I missed my appointment.", {}),
 ("Just another day of forms and waiting rooms.", {}),
 ("We talked mostly about the new metro line.", {}),
 ("{n} asked about the recycling days.", {}),
 ("I bought a winter jacket at the flea market.", {}),
 ("My cousin visits next week.", {}),
 ("ok week", {}),
 ("Nothing to report.", {}),
 ("Fine.", {}),
 ("We checked the opening hours of the swimming pool.", {}),
 ("I started the job, but I feel alone there, no one talks to me.", {J: 1, B: -1}),
 ("My speaking is better, but I am still shy in big groups.", {L: 1, C: -1}),
 ("I have work now, it's hard, but I am happy.", {J: 1, W: 1}),
 ("Some days are good, some days are bad.", {W: 0}),
 ("I like the people, but I don't feel part of it yet.", {B: 0}),
 ("Tired but proud: I presented my idea to the manager.", {C: 1}),
 ("Yeah right, 'we will contact you'. They never do.", {J: -1}),
 ("Lovely, sitting alone at the Christmas party again.", {B: -1}),
]

def fill(s, name):
    p, pp = PRONOUNS.get(name, ("he", "his"))
    return s.replace("{n}", name).replace("{pp}", pp).replace("{p}", p)

def main():
    rng = random.Random(20261122)
    rows = []
    dims = [C, B, L, J, W]
    for i in range(320):
        name = rng.choice(NAMES)
        k = rng.choices([0, 1, 2, 3], weights=[10, 45, 35, 10])[0]
        chosen = rng.sample(POOL, k)
        sentences = [s for s, _ in chosen] + rng.sample(NEUTRAL, rng.choice([0, 1, 1, 2]))
        if not sentences:
            sentences = rng.sample(NEUTRAL, 2)
        rng.shuffle(sentences)
        text = " ".join(fill(s, name) for s in sentences)
        votes = {d: [lab[d] for _, lab in chosen if d in lab] for d in dims}
        labels = {}
        for d in dims:
            v = votes[d]
            labels[d] = "absent" if not v else ("positive" if all(x > 0 for x in v) else "negative" if all(x < 0 for x in v) else "mixed")
        kind = "checkin_note" if "{n}" in "".join(s for s, _ in chosen) else "feedback"
        rows.append({"id": f"eval-{i + 1:04d}", "kind": kind, "text": text, "labels": labels})
    for j, (s, lab) in enumerate(STANDALONE):
        name = NAMES[j % len(NAMES)]
        labels = {d: ("absent" if d not in lab else "positive" if lab[d] > 0 else "negative" if lab[d] < 0 else "mixed") for d in dims}
        rows.append({"id": f"eval-s{j + 1:03d}", "kind": "standalone", "text": fill(s, name), "labels": labels})
    with open("seeds/impact/evaluation.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(len(rows), "texts")
    # Training sentences for the embedding classifier: every POOL and NEUTRAL sentence, the standalone notes
    # written before the cue lists were frozen (s001-s020) and TRAINING_EXTRA. Labels: +1 / -1 / 0 (mixed).
    train = [(s, lab) for s, lab in POOL] + [(s, {}) for s in NEUTRAL] + STANDALONE[:20] + TRAINING_EXTRA
    with open("seeds/impact/training-sentences.jsonl", "w") as f:
        for j, (s, lab) in enumerate(train):
            f.write(json.dumps({"text": fill(s, NAMES[j % len(NAMES)]), "labels": {d: lab[d] for d in dims if d in lab}}, ensure_ascii=False) + "\n")
    print(len(train), "training sentences")

if __name__ == "__main__":
    main()
