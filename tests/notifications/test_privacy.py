"""No email carries text its recipient may not read: a mail to the Director never contains a
Board-only item, and `group` items never leave the group."""

from __future__ import annotations

import datetime as dt

from governance.accounts.tables import User
from governance.notifications.digests import run_digests
from tests.notifications.conftest import (
    START,
    Mail,
    People,
    add_decision,
    add_item,
    attend,
    make_action,
    make_delivered_report,
    make_meeting,
    sweep,
)

BOARD_ONLY = (
    "Conduct of the Director (board item)",
    "Refer the conduct matter to the Board (board decision)",
    "Independent review of management (board report)",
    "Brief the Board chair (board action)",
)
GROUP_ONLY = (
    "Member wellbeing case (group item)",
    "Support the colleague privately (group decision)",
)
VISIBLE_TO_DIRECTOR = ("Staff survey (internal item)", "Workload recommendation (internal report)")


async def test_no_mail_to_the_director_carries_a_board_only_item(clock, people: People, mail: Mail):
    await User.update({User.digest_frequency: "daily", User.timezone: "Europe/London"}).where(
        User.id.is_in([people.director, people.board, people.member, people.stranger])
    )
    # A held meeting whose decisions fall in the next digests, and one ahead.
    held = await make_meeting(people.group_id, START - dt.timedelta(hours=2), status="held")
    await add_item(held, VISIBLE_TO_DIRECTOR[0])
    board_item = await add_item(held, BOARD_ONLY[0], "board")
    group_item = await add_item(held, GROUP_ONLY[0], "group")
    await add_decision(held, board_item, BOARD_ONLY[1], people.chair)
    await add_decision(held, group_item, GROUP_ONLY[1], people.chair)
    for user in (people.director, people.board, people.member):
        await attend(held, user)
    ahead = await make_meeting(people.group_id, START + dt.timedelta(days=1), title="Next")
    await add_item(ahead, BOARD_ONLY[0], "board")
    await add_item(ahead, GROUP_ONLY[0], "group")
    # A report to the Board only, and one to both lines, both soon past due.
    await make_delivered_report(
        people.group_id,
        people.chair,
        title=BOARD_ONLY[2],
        visibility="board",
        lines=("board",),
        response_due_on=START.date() + dt.timedelta(days=2),
    )
    await make_delivered_report(
        people.group_id,
        people.chair,
        title=VISIBLE_TO_DIRECTOR[1],
        response_due_on=START.date() + dt.timedelta(days=2),
    )
    await make_action(
        people.group_id,
        [people.member],
        START.date() + dt.timedelta(days=1),
        title=BOARD_ONLY[3],
        visibility="board",
    )

    for day in range(5):
        for hour in (7, 12):
            clock.move_to(START.replace(hour=hour) + dt.timedelta(days=day))
            await sweep()
            await run_digests()
    await mail.deliver()

    to_director = [mail.everything(m) for m in mail.to("director@example.org")]
    assert len(to_director) >= 3  # digests and the overdue notice: not a vacuous pass
    assert any(VISIBLE_TO_DIRECTOR[1] in text for text in to_director)
    for text in to_director:
        for secret in BOARD_ONLY + GROUP_ONLY:
            assert secret not in text

    to_board = "\n".join(mail.everything(m) for m in mail.to("board@example.org"))
    for title in (BOARD_ONLY[1], BOARD_ONLY[2]):
        assert title in to_board
    for secret in GROUP_ONLY:
        assert secret not in to_board

    to_member = "\n".join(mail.everything(m) for m in mail.to("member@example.org"))
    for title in (*GROUP_ONLY, BOARD_ONLY[0], BOARD_ONLY[3]):
        assert title in to_member

    assert mail.to("stranger@example.org") == []
    to_former = "\n".join(mail.everything(m) for m in mail.to("former@example.org"))
    for secret in BOARD_ONLY + GROUP_ONLY:
        assert secret not in to_former
