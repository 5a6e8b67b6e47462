import pytest


@pytest.fixture(autouse=True)
def quick_planner(settings):
    settings.DUTY_PLAN_SECONDS = 4
