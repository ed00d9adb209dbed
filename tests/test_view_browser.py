"""baremlp view in a real browser: Debian's chromium driven by Playwright (never Playwright's own
browsers: nothing is downloaded).  Without chromium these tests skip, saying how to enable them; CI
installs it (.ci/run).  The screenshots in docs/view.md are taken here."""
import os
import subprocess
import sys
import time
import warnings

import pytest
import torch

from view_helpers import running_server  # skips without the view extra

from baremlp import backprop, data as datamod
from baremlp.runs.runner import build_net, run
from baremlp.runs.settings import Settings
from baremlp.sgd import epoch_order

CHROMIUM = os.environ.get("BAREMLP_CHROMIUM", "/usr/bin/chromium")
ENABLE = "browser tests skipped: install Debian's chromium (apt-get install -y chromium) and playwright (make setup)"
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None
if sync_playwright is None or not os.path.exists(CHROMIUM):
    if os.environ.get("BAREMLP_REQUIRE_BROWSER"):  # CI: these tests must run
        raise RuntimeError(ENABLE.replace("skipped", "cannot run"))
    warnings.warn(ENABLE)
    pytest.skip(ENABLE, allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IMAGES = os.environ.get("BAREMLP_SCREENSHOTS")  # BAREMLP_SCREENSHOTS=docs/images: refresh docs/view.md's pictures
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    table = {"data": os.path.join(os.path.dirname(__file__), "..", "examples", "iris_tiny.csv"), "target": "species"}
    with running_server(runs=str(runs), table=table) as (url, app):
        yield url, app, runs


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)  # lets wait_for_function run
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return IMAGES or str(tmp_path_factory.mktemp("screenshots"))


def shot(page, images, name, selector=None):
    os.makedirs(images, exist_ok=True)
    (page.locator(selector) if selector else page).screenshot(path=os.path.join(images, name),
                                                               **({} if selector else {"full_page": True}))


def frame(page):
    return page.evaluate("App.lastFrame")


def test_page_loads_with_no_console_errors(server, page):
    url, _, _ = server
    page.goto(url)
    page.wait_for_function("document.getElementById('status').textContent.startsWith('paused')")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph")
    assert page.problems == []
    assert page.locator(".g-node").count() == 12  # x, W, b, u, h, M, c, v, y, L, s, J


def trains_to_R(server, page, query, settings):
    url, _, _ = server
    page.goto(f"{url}/?{query}")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph")
    page.click("#train")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('finished')", timeout=120_000)
    summary = page.evaluate("App.final.summary")
    _, cli = run(Settings.from_dict(settings), progress=False, log=lambda *a: None)
    assert summary["effective_map"] == cli["effective_map"]  # the CLI's run, to the last bit
    assert summary["effective_map_error"] < 1e-3
    assert "max |M W − R|" in page.inner_text("#mw")
    assert page.problems == []
    return summary


def test_trains_the_rotation_run_to_R_as_the_cli_does(server, page, images):
    """The default rotation run on 200 samples with the manual engine (the full default run: the slow test below)."""
    summary = trains_to_R(server, page, "engine=manual&n=200", {"engine": "manual", "n": 200})
    assert summary["effective_map_error"] < 1e-6
    shot(page, images, "view-train.png")


@pytest.mark.slow
def test_trains_the_default_rotation_run_to_R_as_the_cli_does(server, page, images):
    summary = trains_to_R(server, page, "", {})
    assert summary["effective_map_error"] < 1e-6
    shot(page, images, "view-train.png")  # the picture in the README: the default run


def test_step_shows_what_backprop_gradients_gives(server, page, images):
    url, _, _ = server
    page.goto(f"{url}/?n=100")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph")
    page.click("#step")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph && App.lastFrame.graph.update")
    g = frame(page)["graph"]
    s = Settings(n=100)
    data = datamod.load(s)
    net = build_net(s, data)
    i = int(epoch_order(100, 0, 0)[0])
    J, grads = backprop.gradients(net, data.x[i:i + 1], data.y[i:i + 1], loss="mse", reg=s.reg)
    assert g["rows"] == [i]
    for name, grad in zip(["W", "b", "M", "c"], grads):
        assert torch.tensor(g["nodes"][name]["grad"]).double() == pytest.approx(grad.double(), abs=1e-7)
    shown = page.locator('.g-node[data-name="W"] .gr td').first.inner_text()  # as the page prints it
    assert float(shown) == pytest.approx(grads[0][0, 0].item(), rel=5e-3, abs=1e-6)
    assert f"sample #{i}" in page.inner_text("#graph-caption")
    assert "W ← W − 0.04·∂J/∂W" in page.inner_text("#graph")
    shot(page, images, "view-step.png", "#card-graph")
    assert page.problems == []


def test_a_cli_run_being_written_appears_and_advances(server, page, images):
    url, _, runs = server
    out = runs / "cli-run"
    log = open(runs.parent / "cli-run.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "baremlp", "train", "--dataset", "linear", "--epochs", "15",
                             "--out", str(out)],  # the eager engine: about 0.4 s an epoch, slow enough to watch
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        page.goto(url)
        page.click("nav button[data-tab=watch]")
        row = page.locator('#runs tr[data-run="cli-run"]')
        try:  # a loaded machine takes seconds to import torch before the run folder exists
            row.wait_for(timeout=60_000)
        except Exception:
            log.seek(0)
            raise AssertionError(f"the CLI run never appeared (exit status {proc.poll()}, config.json there: "
                                 f"{(out / 'config.json').exists()}): {log.read()[-2000:]}") from None
        page.wait_for_function("document.querySelector('#runs tr[data-run=\"cli-run\"] .st-running')", timeout=30_000)
        row.locator("input").check()
        count = "() => (App.watch.followed.get('cli-run') || {epochs: []}).epochs.length"
        page.wait_for_function(f"({count})() >= 2", timeout=30_000)
        first = page.evaluate(count)
        page.wait_for_function(f"({count})() > {first}", timeout=30_000)  # it advances while the run is written
        proc.wait(120)
        page.wait_for_function(f"({count})() == 15", timeout=30_000)
        page.wait_for_function("document.querySelector('#runs tr[data-run=\"cli-run\"] .st-finished')", timeout=10_000)
        shot(page, images, "view-watch.png")
    finally:
        proc.kill()
        log.close()
    assert page.problems == []


def test_refusals_are_shown_in_the_page(server, page):
    url, app, _ = server
    before = len(app.trainings.by_id)
    page.goto(f"{url}/?n=100000")
    page.wait_for_selector("#error:not([hidden])")
    assert "n 100000 too large for the live page: expected ≤ 5000" in page.inner_text("#error")
    assert len(app.trainings.by_id) == before
    page.goto(f"{url}/?lr=80&reg=0&n=200&epochs=5")  # a run that diverges says so in words
    page.wait_for_function("App.lastFrame")
    page.click("#train")
    page.wait_for_selector("#error:not([hidden])", timeout=30_000)
    assert "Training diverged" in page.inner_text("#error") and "smaller learning rate" in page.inner_text("#error")


def test_settings_in_the_address_set_up_the_run(server, page, images):
    """A link an instructor hands out: the square data's decision regions (its recipe: two layers of 16)."""
    url, _, _ = server
    page.goto(f"{url}/?dataset=square&epochs=60&engine=manual")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph")
    assert page.input_value("input[name=hidden]") == "16,16" and page.input_value("select[name=schedule]") == "cosine"
    assert page.evaluate("App.run.settings.hidden") == [16, 16]
    page.click("#train")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('finished')", timeout=60_000)
    summary = page.evaluate("App.final.summary")
    assert summary["sizes"] == [2, 16, 16, 2] and summary["val_accuracy"] > 0.95
    assert "Decision regions" in page.inner_text("#plane-title")
    assert page.locator(".relu-unit canvas").count() == 32
    assert page.locator(".g-node").count() == 16  # x, W1, b1, u1, h1, W2, b2, u2, h2, M, c, v, y, L, s, J
    shot(page, images, "view-square.png")
    assert page.problems == []


def test_a_table_the_server_was_started_with(server, page):
    url, _, _ = server
    page.goto(f"{url}/?dataset=table&hidden=8&epochs=20&lr=0.01")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph")
    assert page.locator("#card-plane").is_hidden()  # four inputs: no plane to draw
    page.click("#train")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('finished')", timeout=60_000)
    summary = page.evaluate("App.final.summary")
    assert summary["sizes"] == [4, 8, 3] and summary["loss"] == "cross-entropy"
    assert page.problems == []


def test_closing_the_tab_stops_its_training(server, browser):
    url, app, _ = server
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{url}/?n=5000&epochs=1000")
    page.wait_for_function("App.lastFrame")
    page.click("#train")
    page.wait_for_function("App.lastFrame && App.lastFrame.status === 'running'")
    id = page.evaluate("App.run.id")
    page.close()
    t0 = time.monotonic()
    while not app.trainings.get(id).outbox.done:
        assert time.monotonic() - t0 < 1.5, "the training went on after its tab was closed"
        time.sleep(0.05)
    context.close()


# issue 28: the page for every learner

def status_is(page, prefix, timeout=30_000):
    page.wait_for_function(f"document.getElementById('status').textContent.startsWith({prefix!r})", timeout=timeout)


def enabled(page):
    return page.evaluate("Object.fromEntries(['train', 'pause', 'step', 'reset', 'stop']"
                         ".map(b => [b, !document.getElementById(b).disabled]))")


def test_buttons_follow_the_state(server, page):
    """Before a run Stop and Pause are off; while it runs both are on; once paused, Pause is off at the moment
    the status says so (each of several pauses); Reset after Pause raises nothing."""
    url, _, _ = server
    page.goto(f"{url}/?n=5000&epochs=1000")
    status_is(page, "paused")
    page.wait_for_function("App.lastFrame")
    assert enabled(page) == {"train": True, "pause": False, "step": True, "reset": True, "stop": False}
    page.click("#train")
    page.wait_for_function("App.run.status === 'running'")
    page.wait_for_function("!document.getElementById('pause').disabled")
    assert enabled(page)["stop"]
    for _ in range(4):
        page.click("#pause")
        state = page.wait_for_function("(() => { const s = document.getElementById('status').textContent;"
                                       " return s.startsWith('paused') && [document.getElementById('pause').disabled]; })()")
        assert state.json_value() == [True]
        assert enabled(page) == {"train": True, "pause": False, "step": True, "reset": True, "stop": True}
        assert page.inner_text("#train") == "Resume"
        page.click("#train")
        page.wait_for_function("App.run.status === 'running' && !document.getElementById('pause').disabled")
    page.click("#pause")
    status_is(page, "paused")
    old = page.evaluate("App.run.id")
    page.click("#reset")
    page.wait_for_function(f"App.run.id !== {old!r} && App.lastFrame && App.lastFrame.epoch === 0 && !App.lastFrame.position")
    status_is(page, "paused")
    assert not enabled(page)["stop"]
    time.sleep(0.3)
    assert page.problems == []


@pytest.mark.parametrize("width, height", [(800, 600), (390, 844)])
def test_small_screens(server, browser, width, height):
    """At 800×600 Train and the status line are in view without scrolling; at 390 px the page does not
    scroll sideways and the charts fit their cards."""
    url, _, _ = server
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{url}/?n=200&epochs=3")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph")
    for selector in ("#train", "#status"):
        box = page.locator(selector).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height and box["x"] + box["width"] <= width, selector
    page.click("#train")
    status_is(page, "finished")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    fits = page.evaluate("""[...document.querySelectorAll('#play .card:not([hidden])')].map(card => {
        const c = card.getBoundingClientRect();
        return [card.id, [...card.querySelectorAll('canvas, .uplot')].every(e => {
            const r = e.getBoundingClientRect(); return r.width === 0 || (r.left >= c.left - 1 && r.right <= c.right + 1); })];
    })""")
    assert all(ok for _, ok in fits), fits
    context.close()


def test_edits_survive_a_data_set_change(server, page):
    """As CLI flags go over a recipe: the fields the learner edited stay, the others take the recipe's values."""
    url, _, _ = server
    page.goto(f"{url}/?epochs=7")
    page.wait_for_function("App.lastFrame")
    page.fill("input[name=lr]", "0.123")
    page.select_option("select[name=dataset]", "square")
    assert page.input_value("input[name=lr]") == "0.123"  # edited
    assert page.input_value("input[name=epochs]") == "7"  # from the address: a flag too
    assert page.input_value("input[name=hidden]") == "16,16"  # the square recipe's
    assert page.input_value("select[name=schedule]") == "cosine"
    page.select_option("select[name=dataset]", "linear")
    assert page.input_value("input[name=lr]") == "0.123" and page.input_value("input[name=hidden]") == "3"
    assert "lr=0.123" in page.url and "epochs=7" in page.url


def test_the_clis_notes_reach_the_page_in_words(server, page):
    """A square run at lr 80 ends with most of its units dead: the status line says so, as the CLI does."""
    url, _, _ = server
    page.goto(f"{url}/?dataset=square&lr=80&epochs=3&engine=manual")
    page.wait_for_function("App.lastFrame")
    page.click("#train")
    status_is(page, "finished", timeout=60_000)
    assert "23 dead units" in page.inner_text("#status")
    assert "they pass no gradient, so they never learn" in page.inner_text("#notes")
    page.goto(f"{url}/?n=100&epochs=1&batch_size=500&noise=0")  # the batch clamp
    page.wait_for_function("App.lastFrame")
    page.click("#train")
    status_is(page, "finished")
    assert "batch_size 500 is larger than the 100 samples: using 100" in page.inner_text("#notes")


def test_a_link_to_no_data_set_names_it(server, page):
    url, _, _ = server
    page.goto(f"{url}/?dataset=nosuch")
    page.wait_for_selector("#error:not([hidden])")
    assert "dataset 'nosuch' unknown" in page.inner_text("#error")
    assert page.problems == []


@pytest.mark.slow  # a compile: seconds to a minute
def test_the_compiled_engine_says_it_compiles(server, page):
    """The compiled engine says it compiles, and for how long that may take."""
    url, _, _ = server
    page.goto(f"{url}/?engine=compiled&n=100&epochs=2")
    page.wait_for_function("App.lastFrame")
    page.click("#train")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('compiling')"
                           " || document.getElementById('status').textContent.startsWith('finished')", timeout=120_000)
    said = page.evaluate("App.said")
    assert any(s.startswith("compiling") and "torch.compile" in s and "up to a minute" in s for s in said), said


def test_first_load_says_what_to_do(server, page):
    url, _, _ = server
    page.goto(url)
    page.wait_for_function("App.lastFrame")
    assert "Press Train" in page.inner_text("#hint")
    about = page.inner_text("#dataset-about")
    assert "rotation" in about and "R" in about
    page.select_option("select[name=dataset]", "square")
    assert "square" in page.inner_text("#dataset-about")


def test_step_shows_its_change_and_an_ended_run_no_next_step(server, page):
    """A step of lr 1e-3 shows in Δp = p(after) − p(before); once the run ends the graph announces no next step."""
    url, _, _ = server
    page.goto(f"{url}/?n=100&lr=0.001&epochs=1")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph")
    page.click("#step")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph && App.lastFrame.graph.update")
    u = frame(page)["graph"]["update"]["params"]["W"]
    delta = u["after"][0][0] - u["before"][0][0]
    card = page.locator('.g-node[data-name="W"]')
    assert "ΔW" in card.inner_text()
    shown = float(card.locator(".upd .mat").nth(1).locator("td").first.inner_text())
    assert shown != 0 and shown == pytest.approx(delta, rel=2e-3)
    page.click("#train")
    status_is(page, "finished")
    caption = page.inner_text("#graph-caption")
    assert "Next step" not in caption and "The run has ended" in caption
    assert page.problems == []


def test_the_graph_fits_and_names_its_conventions(server, page):
    url, _, _ = server
    page.goto(f"{url}/?hidden=8,8,8,8&n=2000&epochs=200")
    page.wait_for_function("App.lastFrame && App.lastFrame.graph")
    page.wait_for_timeout(200)
    grid, card = (page.locator(sel).bounding_box() for sel in (".g-grid", "#card-graph"))
    assert grid["x"] >= card["x"] and grid["x"] + grid["width"] <= card["x"] + card["width"]
    s_eq = page.inner_text('.g-node[data-name="s"] .eq')
    assert "W1" in s_eq and "M" in s_eq
    assert "batch first" in page.inner_text("#graph-caption") and "W (out, in)" in page.inner_text("#graph-caption")
    page.click("#train")
    page.wait_for_function("App.lastFrame && App.lastFrame.epoch >= 1")
    page.click("#pause")
    status_is(page, "paused")
    page.wait_for_function("App.lastFrame.graph")
    page.wait_for_timeout(100)
    import re
    in_status = re.search(r"epoch (\d+) of", page.inner_text("#status")).group(1)
    in_caption = re.search(r"epoch (\d+)", page.inner_text("#graph-caption")).group(1)
    assert in_status == in_caption
    assert page.problems == []


def test_classes_are_named_scored_live_and_tested(server, page):
    """The square's decision regions come with a legend naming its classes and its axes; accuracy and test
    loss update during the run; a toggle draws the test data."""
    url, _, _ = server
    page.goto(f"{url}/?dataset=square&epochs=40&engine=manual&n=400")
    page.wait_for_function("App.lastFrame && App.lastFrame.function")
    page.wait_for_timeout(100)
    side = page.inner_text("#plane-side")
    assert "class 0: outside" in side and "class 1: inside" in side and "→ x₁" in side and "↑ x₂" in side
    page.click("#train")
    page.wait_for_function("App.run.epochs.length >= 2 && !App.run.done")
    live = page.inner_text("#live")
    assert "test accuracy" in live and "test loss" in live and "accuracy" in live
    status_is(page, "finished", timeout=60_000)
    page.wait_for_timeout(100)
    before = page.evaluate("document.getElementById('plane').toDataURL()")
    page.check("#show-test")  # the same frame, now with the test data's rings
    page.wait_for_timeout(100)
    assert page.evaluate("document.getElementById('plane').toDataURL()") != before
    epochs = page.evaluate("App.run.epochs")
    assert epochs[-1]["test_loss"] == pytest.approx(page.evaluate("App.final.summary.test_loss"))
    assert page.problems == []
