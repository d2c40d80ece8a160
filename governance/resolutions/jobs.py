"""The scheduler's job of written resolutions: close those whose time has come, remind
those who have not voted a day before. Each run asks the database what is due."""

from __future__ import annotations

from governance.resolutions.services import ResolutionsSwept, sweep_resolutions


async def resolutions_job() -> ResolutionsSwept:
    return await sweep_resolutions()
