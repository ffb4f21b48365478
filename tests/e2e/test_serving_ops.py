"""What an operator and a tester see of the running service: /metrics, traces, request-tagged logs,
and the chat playground driven in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import time
import uuid

import httpx
import pytest
from e2e_seed import wait_rows

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOME = {"lat": 37.5560, "lon": 126.9050}


def _sid() -> str:
    return "ops-" + uuid.uuid4().hex[:10]


def _metric(body: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total, found = 0.0, False
    for line in body.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
            found = True
    assert found, f"{name} {labels} not in /metrics"
    return total


def test_metrics_after_one_chat_turn(service, client):
    before = client.get(service.url + "/metrics").text  # loopback: no key needed
    turn = service.ok_chat(client, "배고픈데 5천원밖에 없어", "1", _sid(), location=HOME)
    r = client.get(service.url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    body = r.text
    # BentoML's per-endpoint request latency, aggregated over the workers
    assert _metric(body, "bentoml_service_request_duration_seconds_count", endpoint="/chat") >= 1
    # one histogram per pipeline stage the turn went through
    for stage in turn["timings_ms"]:
        if stage != "total":
            assert _metric(body, "naviyam_stage_duration_seconds_count", stage=stage) >= 1
    assert _metric(body, "naviyam_nlu_intent_total", intent=turn["intent"]) >= 1
    assert _metric(body, "naviyam_cache_lookups_total", cache="nlu") >= 1
    assert _metric(body, "naviyam_model_variant_served_total", variant=turn["model_variant"]) >= 1
    assert _metric(body, "naviyam_recommendation_impressions_total") >= len(turn["recommendations"])
    assert _metric(body, "naviyam_event_log_db_up") in (0.0, 1.0)
    _metric(body, "naviyam_event_log_pending")
    # the counter grew by this turn (other tests share the service, so at least one)
    was = sum(float(x) for x in re.findall(r'naviyam_nlu_intent_total\{intent="%s"\} ([0-9.e+]+)' % turn["intent"],
                                           before))
    assert _metric(body, "naviyam_nlu_intent_total", intent=turn["intent"]) >= was + 1


def test_empty_answer_is_counted_by_reason(service, client):
    service.ok_chat(client, "배고픈데 100원밖에 없어", "1", _sid(), location=HOME)
    body = client.get(service.url + "/metrics").text
    assert _metric(body, "naviyam_empty_answers_total") >= 1


def test_metrics_from_elsewhere_need_the_key():
    """Only loopback scrapes without the key; the same request from a non-loopback address is refused."""
    import asyncio

    from infra.settings import Settings
    from serving.service import GuardMiddleware

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def status(client_host: str, public: bool = False, key: bytes | None = None) -> int:
        settings = Settings(_env_file=None, metrics_public=public)
        # limits far away: the shared Redis counts every e2e request of this key's client this minute,
        # and this test is about who may scrape, not about limits (tests/integration/test_serving_guard.py)
        guard = GuardMiddleware(app, api_key="k" * 32, settings=settings, rate_limit=10**9, auth_failures=10**9)
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b""}

        headers = [(b"x-api-key", key)] if key else []
        scope = {"type": "http", "path": "/metrics", "method": "GET", "headers": headers, "client": (client_host, 1)}
        asyncio.run(guard(scope, receive, send))
        return sent[0]["status"]

    assert status("127.0.0.1") == 200
    assert status("10.1.2.3") == 401
    assert status("10.1.2.3", key=b"k" * 32) == 200
    assert status("10.1.2.3", public=True) == 200


def test_a_turn_is_one_trace_with_a_span_per_stage(service, client, otlp):
    status = client.post(service.url + "/status", json={}, headers=service.headers()).json()
    assert status["components"]["tracing"] == f"otlp {otlp.url}"
    turn = service.ok_chat(client, "떡볶이 먹고 싶어", "1", _sid(), location=HOME)
    deadline = time.monotonic() + 30  # the batch span processor exports every 5 s (0.5 s here)
    root = None
    while time.monotonic() < deadline and root is None:
        for span in otlp.spans():
            attrs = {a["key"]: next(iter(a["value"].values())) for a in span["attributes"]}
            if span["name"] == "chat" and attrs.get("event_id") == turn["event_id"]:
                root = span
        time.sleep(0.5)
    if root is None:
        log = [ln for ln in service.log_path.read_text(errors="replace").splitlines() if "OTLP" in ln or "span" in ln]
        pytest.fail(f"no span for turn {turn['event_id']} among {len(otlp.spans())} received; service log: {log[-5:]}")
    children = [s for s in otlp.spans() if s.get("parentSpanId") == root["spanId"]]
    assert all(c["traceId"] == root["traceId"] for c in children)
    names = {c["name"] for c in children}
    assert {f"stage.{k}" for k in turn["timings_ms"] if k != "total"} <= names
    for child in children:  # every stage lies inside its turn
        assert int(root["startTimeUnixNano"]) <= int(child["startTimeUnixNano"]) <= int(child["endTimeUnixNano"])
        assert int(child["endTimeUnixNano"]) <= int(root["endTimeUnixNano"])


def test_log_lines_carry_request_id_hashed_session_and_event_id(service, client):
    session = _sid()
    r = client.post(service.url + "/chat", json={"user_id": "1", "session_id": session, "text": "김밥 먹고 싶어"},
                    headers={**service.headers(), "X-Request-ID": "req-" + session}, timeout=30)
    assert r.status_code == 200 and r.headers["x-request-id"] == "req-" + session
    event_id = r.json()["event_id"]
    deadline = time.monotonic() + 5
    line = None
    while time.monotonic() < deadline and line is None:
        line = next((ln for ln in service.log_path.read_text(errors="replace").splitlines()
                     if "chat turn" in ln and f"request_id=req-{session}" in ln), None)
        time.sleep(0.2)
    assert line is not None
    assert f"event_id={event_id}" in line and "session_hash=" in line
    assert session.split("-", 1)[1] not in line.replace("req-" + session, "")  # the raw session id is not logged


# ---- the playground in a real browser --------------------------------------------------------------

def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("Chromium and chromedriver are not installed (`make test` installs them: "
                    "apt-get install chromium chromium-driver)")
    return browser, driver


@pytest.fixture()
def browser():
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    binary, driver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--lang=ko-KR"):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=DriverService(executable_path=driver), options=options)
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


def test_playground_chat_cards_and_feedback_in_a_browser(service, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    browser.get(service.url + "/playground/")
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    # the e2e service runs on its own key, not the public development one: type it like a tester would
    key = browser.find_element(By.ID, "api-key")
    key.clear()
    key.send_keys(service.api_key)
    users = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#user option")]
    assert "1" in users  # sample users come from the database
    browser.find_element(By.CSS_SELECTOR, "#user option[value='1']").click()
    places = browser.find_elements(By.CSS_SELECTOR, "#place option")
    assert len(places) > 1  # neighbourhoods with shops
    places[1].click()
    session = browser.find_element(By.ID, "session").text.split()[-1]

    box = browser.find_element(By.ID, "text")
    box.send_keys("배고픈데 5천원밖에 없어")
    browser.find_element(By.ID, "send").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".card")))
    cards = browser.find_elements(By.CSS_SELECTOR, ".card")
    assert cards
    first = cards[0]
    assert first.find_element(By.CSS_SELECTOR, ".menu").text
    assert first.find_element(By.CSS_SELECTOR, ".final").text.endswith("원")
    assert first.find_element(By.CSS_SELECTOR, ".why").text
    assert browser.find_element(By.CSS_SELECTOR, ".bubble.bot").text.strip() not in ("", "…")
    stages = [r.get_attribute("data-stage") for r in browser.find_elements(By.CSS_SELECTOR, "#timings tr")]
    assert "nlu" in stages and "total" in stages

    browser.save_screenshot(str(tmp_path / "playground.png"))
    import os

    if os.environ.get("NAVIYAM_SCREENSHOT_DIR"):  # for the README / a report
        shutil.copy(tmp_path / "playground.png", os.path.join(os.environ["NAVIYAM_SCREENSHOT_DIR"], "playground.png"))

    shop_id = int(first.get_attribute("data-shop-id"))
    first.find_element(By.CSS_SELECTOR, "button[data-action='selection']").click()
    wait.until(lambda d: d.find_element(By.ID, "feedback-status").get_attribute("data-last") == "selection")
    assert "✓ selection" in browser.find_element(By.ID, "feedback-status").text

    n = wait_rows(service.engine, "SELECT count(*) FROM user_interactions WHERE session_id = :s "
                  "AND interaction_type = 'selection' AND (user_selection->>'shop_id')::int = :shop",
                  {"s": session, "shop": shop_id}, 1)
    assert n == 1
