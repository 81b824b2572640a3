"""Navigation without a display: the attract loop, the way back, swipe siblings, the pages
rendered ahead, and what survives a new experience (real draw.io files, no Qt)."""

from __future__ import annotations

from pathlib import Path

from designer_import import load_experience
from kiosk.models.navigation import CACHE_AHEAD, HISTORY_KEEP, Navigation
from tests.support.drawings import button, page_xml, with_goodbye_page, write_drawio


def ids(pages: list) -> list[str]:
    return [p.id for p in pages]


def walk(navigation: Navigation, *page_ids: str) -> None:
    """Go forward through ``page_ids`` as links would (each pushes the way back)."""
    for page_id in page_ids:
        page = navigation.experience.page(page_id)
        assert page is not None, page_id
        navigation.push_current()
        navigation.arrive(page)


def test_the_attract_loop_turns_and_starts_over(shop_file: Path) -> None:
    navigation = Navigation(load_experience(shop_file))
    assert ids(navigation.attract_pages()) == ["attract-1", "attract-2"]
    first = navigation.restart_attract()
    assert first is not None and first.id == "attract-1"
    turns = [navigation.next_attract() for _ in range(3)]
    assert [p.id if p else None for p in turns] == ["attract-2", "attract-1", "attract-2"]
    walk(navigation, "welcome", "cat")
    first = navigation.restart_attract()
    assert first is not None and first.id == "attract-1"
    assert navigation.history == [] and navigation.attract_index == 0


def test_welcome_page_and_resting_pages(shop_file: Path) -> None:
    navigation = Navigation(load_experience(shop_file))
    welcome = navigation.welcome_page()
    assert welcome is not None and welcome.id == "welcome"
    attract = navigation.experience.page("attract-1")
    assert attract is not None and navigation.resting(attract)
    assert not navigation.resting(welcome)
    assert navigation.goodbye_page() is None
    assert navigation.find("Dogs") is navigation.experience.page("cat")
    assert navigation.find("cat") is navigation.experience.page("cat")
    assert navigation.find("nowhere") is None


def test_the_way_back_skips_pages_the_experience_no_longer_has(shop_file: Path) -> None:
    navigation = Navigation(load_experience(shop_file))
    walk(navigation, "welcome", "cat", "p1")
    assert navigation.history == ["welcome", "cat"]
    navigation.history.insert(1, "gone")  # a page a reload took away
    back = navigation.pop_back()
    assert back is not None and back.id == "cat"
    back = navigation.pop_back()
    assert back is not None and back.id == "welcome"  # "gone" skipped
    assert navigation.pop_back() is None


def test_the_way_back_keeps_the_newest_pages(shop_file: Path) -> None:
    navigation = Navigation(load_experience(shop_file))
    for _ in range(HISTORY_KEEP):
        walk(navigation, "cat", "p1")
    assert len(navigation.history) == HISTORY_KEEP
    assert navigation.history[-1] == "cat"


def test_swipe_siblings_are_the_previous_pages_links_in_order(shop_file: Path) -> None:
    navigation = Navigation(load_experience(shop_file))
    walk(navigation, "welcome", "cat")
    assert ids(navigation.siblings()) == ["cat"]  # the welcome page links to it alone
    assert navigation.sibling(+1) is None and navigation.sibling(-1) is None
    walk(navigation, "p1")
    assert ids(navigation.siblings()) == ["p1", "p2", "p3"]
    following = navigation.sibling(+1)
    assert following is not None and following.id == "p2"
    assert navigation.sibling(-1) is None  # p1 is the first
    navigation.arrive(navigation.siblings()[2])
    assert navigation.sibling(+1) is None


def test_neighbours_start_with_the_welcome_page_and_are_capped(tmp_path: Path) -> None:
    links = "".join(
        button(f"to-{i}", f"Page {i}", f"data:page/id,page-{i}", 50 * i, 100) for i in range(12)
    )
    pages = [page_xml("attract", "attract", "")]
    pages.append(page_xml("welcome", "Welcome", ""))
    pages.append(page_xml("hub", "Hub", links))
    pages += [page_xml(f"page-{i}", f"Page {i}", "") for i in range(12)]
    navigation = Navigation(load_experience(write_drawio(tmp_path / "hub.drawio", pages)))
    hub = navigation.experience.page("hub")
    assert hub is not None
    around = navigation.neighbours(hub)
    assert ids(around) == ["welcome"] + [f"page-{i}" for i in range(CACHE_AHEAD - 1)]
    assert navigation.neighbours(hub) is around  # worked out once


def test_within_reach_are_the_links_the_way_back_and_the_swipes(shop_file: Path) -> None:
    navigation = Navigation(load_experience(shop_file))
    assert navigation.within_reach() == []  # nothing shown yet
    walk(navigation, "welcome")
    assert ids(navigation.within_reach()) == ["cat"]  # its link (it is the welcome page)
    walk(navigation, "cat")
    assert ids(navigation.within_reach()) == ["welcome", "p1", "p2", "p3"]
    # a product: home, its back button (to the category), its next sibling by a swipe
    walk(navigation, "p1")
    assert ids(navigation.within_reach()) == ["welcome", "cat", "p2"]
    navigation.arrive(navigation.experience.pages[5])  # swiped on to p2
    assert navigation.page is not None and navigation.page.id == "p2"
    assert ids(navigation.within_reach()) == ["welcome", "cat", "p1", "p3"]
    # a page without a back button: the way back is not one touch away
    navigation.arrive(navigation.experience.pages[0])
    assert navigation.history[-1] == "cat"
    assert ids(navigation.within_reach()) == ["welcome"]


def test_a_new_experience_keeps_the_page_only_when_asked(shop_file: Path, tmp_path: Path) -> None:
    navigation = Navigation(load_experience(shop_file))
    walk(navigation, "welcome", "cat", "p1")
    hub_neighbours = navigation.neighbours(navigation.experience.pages[2])
    assert navigation.goodbye_page() is None
    with_goodbye = load_experience(with_goodbye_page(shop_file, tmp_path / "bye.drawio"))
    kept = navigation.use(with_goodbye, keep_page=True)
    # the same page of the new drawing, shown again; the way back is kept
    assert kept is with_goodbye.page("p1")
    assert navigation.page is None and navigation.history == ["welcome", "cat"]
    bye = navigation.goodbye_page()
    assert bye is not None and bye is with_goodbye.page("bye")
    assert navigation.neighbours(with_goodbye.pages[2]) is not hub_neighbours
    navigation.arrive(kept)
    # not kept: nothing to show again (the screen goes to attract)
    assert navigation.use(load_experience(shop_file), keep_page=False) is None
    assert navigation.goodbye_page() is None
