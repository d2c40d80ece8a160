"""What the demo organisation is made of: its people, their terms in each group, and each
group's own business (agenda topics with their minutes and decisions, actions,
recommendations). Plain data; `governance.demo` records it through the services."""

from __future__ import annotations

from dataclasses import dataclass

# (email, name): the people of the groups besides the documented demo accounts. Every
# demo account has the demo password.
DEMO_PEOPLE = (
    ("sofia.marchetti@example.org", "Sofia Marchetti"),
    ("tomas.ferreira@example.org", "Tomás Ferreira"),
    ("hana.kobayashi@example.org", "Hana Kobayashi"),
    ("kwame.asante@example.org", "Kwame Asante"),
    ("lena.vogel@example.org", "Lena Vogel"),
    ("priya.nair@example.org", "Priya Nair"),
    ("omar.farouk@example.org", "Omar Farouk"),
    ("elif.demir@example.org", "Elif Demir"),
    ("jonas.berg@example.org", "Jonas Berg"),
    ("aisha.bello@example.org", "Aisha Bello"),
    ("mateo.rossi@example.org", "Mateo Rossi"),
    ("yuki.tanaka@example.org", "Yuki Tanaka"),
    ("chidi.okeke@example.org", "Chidi Okeke"),
    ("ingrid.halvorsen@example.org", "Ingrid Halvorsen"),
    ("rahul.mehta@example.org", "Rahul Mehta"),
)


@dataclass(frozen=True)
class Term:
    """A person's term in a group: joined `joined_ago` days ago, left `left_ago` days ago
    (None: still a member), or with an end date `ends_in` days ahead."""

    email: str
    role: str
    joined_ago: int
    left_ago: int | None = None
    ends_in: int | None = None


FOUNDED_AGO = 365  # days: the groups began a year ago
# Wellbeing: 8 members today, two who left (one replaced mid-year).
# NDI: 7 members today, one who left and one whose term ends next quarter.
DEMO_TERMS: dict[str, tuple[Term, ...]] = {
    "wellbeing": (
        Term("chair.wellbeing@example.org", "chair", FOUNDED_AGO),
        Term("sofia.marchetti@example.org", "secretary", FOUNDED_AGO),
        Term("member.wellbeing@example.org", "member", FOUNDED_AGO),
        Term("tomas.ferreira@example.org", "member", FOUNDED_AGO, left_ago=150),
        Term("hana.kobayashi@example.org", "member", FOUNDED_AGO),
        Term("kwame.asante@example.org", "member", FOUNDED_AGO),
        Term("priya.nair@example.org", "member", FOUNDED_AGO, left_ago=60),
        Term("elif.demir@example.org", "member", FOUNDED_AGO),
        Term("lena.vogel@example.org", "member", 140),
        Term("omar.farouk@example.org", "member", 50),
    ),
    "ndi": (
        Term("chair.ndi@example.org", "chair", FOUNDED_AGO),
        Term("jonas.berg@example.org", "secretary", FOUNDED_AGO),
        Term("member.ndi@example.org", "member", FOUNDED_AGO),
        Term("aisha.bello@example.org", "member", FOUNDED_AGO),
        Term("mateo.rossi@example.org", "member", FOUNDED_AGO, left_ago=200),
        Term("chidi.okeke@example.org", "member", FOUNDED_AGO),
        Term("ingrid.halvorsen@example.org", "member", FOUNDED_AGO, ends_in=90),
        Term("yuki.tanaka@example.org", "member", 190),
        Term("rahul.mehta@example.org", "member", 30),
    ),
}


@dataclass(frozen=True)
class Topic:
    title: str
    minutes: str
    decision: str


# Each meeting takes the next topic of each visibility, in this order (public, internal,
# board, group): the papers of the latest Wellbeing meeting are filed by that order.
TOPIC_VISIBILITIES = ("public", "internal", "board", "group")
DEMO_TOPICS: dict[str, dict[str, tuple[Topic, ...]]] = {
    "wellbeing": {
        "public": (
            Topic(
                "Staff wellbeing survey results",
                "Hana presented the survey: 312 answers (64%). Workload is the first concern;"
                " 71% feel supported by their line manager. Field staff answered less often"
                " than office staff.",
                "Publish a summary of the survey on the intranet, with the group's comments.",
            ),
            Topic(
                "Employee assistance programme: first year",
                "Use of the programme rose after the spring campaign. Members asked whether"
                " staff on short contracts know they may use it.",
                "Recommend extending the programme to staff on short-term contracts.",
            ),
            Topic(
                "Quiet room in the head office",
                "Facilities offered the small room on the second floor. Members agreed it"
                " should be bookable and free of meetings.",
                "Ask Facilities to open the quiet room from the first of next month.",
            ),
        ),
        "internal": (
            Topic(
                "Workload in the research team",
                "Kwame reported overtime above 10 hours a week for three months in the"
                " research team. The team lead will join the next meeting.",
                "Hold a workload workshop with the research team before the end of the quarter.",
            ),
            Topic(
                "Buddy scheme for new staff",
                "Twelve new starters since January; eight had a buddy. The guide is out of"
                " date on remote onboarding.",
                "Update the buddy scheme guide for remote starters.",
            ),
            Topic(
                "Return-from-mission check-ins",
                "Check-ins took place for most returning field staff. Two teams asked for"
                " them to be offered a second time after a month.",
                "Offer a second check-in a month after every return.",
            ),
        ),
        "board": (
            Topic(
                "Concerns about senior management conduct",
                "The chair summarised the accounts received; the group agreed to raise them"
                " with the Board only.",
                "Send a note to the Board only, with names withheld.",
            ),
            Topic(
                "Grievance channel outside line management",
                "Members discussed options for a channel independent of line managers.",
                "Recommend an independent grievance channel to both lines.",
            ),
        ),
        "group": (
            Topic(
                "Support for a colleague after a field mission",
                "The group discussed the support offered; details are kept in the group.",
                "The chair to check in with the colleague's manager.",
            ),
            Topic(
                "A request for a confidential referral",
                "One referral made to the assistance programme; no details are minuted.",
                "The secretary to confirm the referral was received.",
            ),
        ),
    },
    "ndi": {
        "public": (
            Topic(
                "Inclusive recruitment guidance",
                "Aisha presented a draft checklist for shortlisting panels: mixed panels,"
                " structured questions and adjustments offered in every invitation.",
                "Publish the inclusive recruitment checklist for hiring managers.",
            ),
            Topic(
                "Inclusive language guide",
                "Comments from three teams were folded in. Members asked for examples in"
                " French and Spanish as well.",
                "Adopt the inclusive language guide for the group's own papers.",
            ),
            Topic(
                "Diversity monitoring report",
                "The annual figures were reviewed; response rates to the voluntary questions"
                " are too low in two offices to report.",
                "Ask HR to repeat the voluntary questions with a clearer explanation.",
            ),
        ),
        "internal": (
            Topic(
                "Accessibility of the office move",
                "Chidi walked the new building with Facilities: the side entrance has steps"
                " and the lift is too narrow for some wheelchairs.",
                "Ask for a step-free access audit of the new office before the move.",
            ),
            Topic(
                "Reasonable adjustments process",
                "Requests take six weeks on average. Members proposed a single form and a"
                " named contact in HR.",
                "Propose a single adjustments form with a named HR contact.",
            ),
            Topic(
                "Faith and cultural calendar",
                "Yuki shared a draft calendar of observances for planning team events.",
                "Share the calendar with team leads for comment.",
            ),
        ),
        "board": (
            Topic(
                "Pay-gap analysis raised with the Board",
                "The analysis by grade shows gaps in two grades; the group will raise it"
                " with the Board.",
                "Send the pay-gap note to the Board.",
            ),
            Topic(
                "Representation on the senior team",
                "Members discussed the composition of the senior team and what to ask of the"
                " Board.",
                "Ask the Board to report representation figures each year.",
            ),
        ),
        "group": (
            Topic(
                "Personal circumstances of a staff member",
                "Discussed in confidence; nothing is minuted beyond the decision.",
                "The chair to follow up with HR in confidence.",
            ),
            Topic(
                "Support for a member returning from leave",
                "The group agreed how to support a member returning from long leave.",
                "The secretary to share papers with the member before the next meeting.",
            ),
        ),
    },
}

# When and where each group meets: (week of the month, weekday Monday=0, hour UTC, place).
DEMO_SCHEDULE = {
    "wellbeing": (2, 1, 10, "Meeting room 2 / video link"),
    "ndi": (3, 3, 14, "Library, 3rd floor / video link"),
}
DEMO_SUMMARY = {
    "wellbeing": "The chair opened the meeting and welcomed the members attending. Minutes"
    " of the previous meeting and the action log were reviewed.",
    "ndi": "The chair opened the meeting. The secretary reported on open actions and"
    " apologies received.",
}

# (title, done note, days it takes, days from creation to due date)
DEMO_ACTIONS: dict[str, tuple[tuple[str, str, str, int], ...]] = {
    "wellbeing": (
        ("Publish the survey summary", "done", "Published on the intranet.", 30),
        ("Organise a workload workshop", "in_progress", "Room booked; date agreed.", 45),
        ("Update the buddy scheme guide", "open", "", 35),
    ),
    "ndi": (
        ("Publish the inclusive recruitment checklist", "done", "Sent to hiring managers.", 30),
        ("Commission a step-free access audit", "in_progress", "Auditor chosen.", 60),
        ("Collect pay-gap figures by grade", "open", "", 35),
    ),
}

# (title, body, route, days ago, Director answer, Board answer): answers are
# (response, rationale, action title or "") or None when not answered.
Answer = tuple[str, str, str] | None
DEMO_RECOMMENDATIONS: dict[str, tuple[tuple[str, str, str, int, Answer, Answer], ...]] = {
    "wellbeing": (
        (
            "Flexible working hours for all teams",
            "We recommend a written flexible-hours policy, reviewed after six months.",
            "both",
            120,
            (
                "partially_accepted",
                "Agreed for office-based teams now; field teams after the review.",
                "Draft the flexible-hours policy",
            ),
            (
                "accepted",
                "The Board supports the recommendation in full.",
                "Board to review the policy at its next meeting",
            ),
        ),
        (
            "A fourth well-being day",
            "An extra paid well-being day each year.",
            "director",
            80,
            ("declined", "Not affordable this financial year; to be reconsidered next year.", ""),
            None,
        ),
    ),
    "ndi": (
        (
            "Step-free access in the new office",
            "We recommend that the move waits until the side entrance and the lift are accessible.",
            "both",
            110,
            (
                "accepted",
                "The move is planned for after the works; Facilities will confirm dates.",
                "Agree the access works with the landlord",
            ),
            ("noted", "The Board notes the recommendation and the Director's answer.", ""),
        ),
        (
            "Publish the gender pay gap by grade",
            "Publish the pay gap by grade each year, with the actions taken.",
            "director",
            70,
            (
                "partially_accepted",
                "We will publish by grade where a grade has enough staff to protect them.",
                "Prepare the pay-gap publication",
            ),
            None,
        ),
    ),
}
