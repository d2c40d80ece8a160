from tests.factories import make_group, make_membership, make_user
from tests.helpers import sign_in


async def test_signed_in_member_sees_group_page(client):
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    user_id = await make_user(name="Milo")
    await make_membership(user_id, group_id, "chair")
    await sign_in(client, user_id)
    response = await client.get("/groups/wellbeing")
    assert response.status_code == 200
    assert "Working Group on Wellbeing" in response.text
    assert "Milo" in response.text


async def test_anonymous_is_sent_to_sign_in(client):
    response = await client.get("/groups")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login?next=/groups")
