"""A module's Chromium whose fake camera is small: 320 × 240 at 15 frames a second of plain grey,
where Chromium's own fake camera draws a moving picture at the 1280 × 720 the call asks for, at
30 frames a second. For the conferences: four browsers each encode one picture, encrypt every
frame in JavaScript (SFrame) and decrypt and decode three, on a 2-core machine beside the other
worker's tests; what they check (frames decoded under the right key, who is in the key, the
grid) does not depend on the picture's size.

    from tests.browser.small_camera import browser  # noqa: F401 (the fixture)
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import chromium, plain_video


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    grey = (128, 128, 128)
    video = plain_video(tmp_path_factory.mktemp("camera") / "grey.y4m", width=320, height=240, fps=15, yuv=grey)
    yield from chromium(video)
