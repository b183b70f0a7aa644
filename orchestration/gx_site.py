"""The Data Docs site builders `orchestration.quality` renders with: GX's own pages and index, for
the resources of one build instead of for every result ever stored.

GX's builders list, compare and clean every stored validation result and page on each build
(~1 ms per result), so with a year of daily builds each build spent seconds just listing. These
render the same pages from the keys they are given. Imported only once GX is (GX's import is slow).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier
from great_expectations.render.renderer.site_builder import (
    DefaultSiteIndexBuilder,
    DefaultSiteSectionBuilder,
)


class _Listed:
    """A store seen through the keys it was asked for."""

    def __init__(self, store: Any, keys: Sequence[Any]) -> None:
        self._store, self._keys = store, list(keys)

    def list_keys(self) -> list[Any]:
        return list(self._keys)

    def get(self, key: Any) -> Any:
        return self._store.get(key)


class _Prefixed:
    """A site's store backend whose listing starts in its own folder (GX walks the whole site,
    every validation page included, to find the few suite pages)."""

    def __init__(self, backend: Any, prefix: tuple[str, ...]) -> None:
        self._backend, self._prefix = backend, prefix

    def list_keys(self, prefix: tuple[str, ...] = ()) -> list[Any]:
        return self._backend.list_keys((*self._prefix, *prefix))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


class RequestedSection(DefaultSiteSectionBuilder):
    """GX's section builder, rendering the pages of the resources passed to `build` (GX would
    list its whole store to find them); without any, every page, as GX does."""

    def build(self, resource_identifiers: Sequence[Any] | None = None) -> None:
        if not resource_identifiers:
            return super().build(resource_identifiers)
        store = self.source_store
        keys = [k for k in resource_identifiers if isinstance(k, store.key_class) and store.has_key(k)]
        self.source_store = _Listed(store, keys)
        try:
            return super().build(keys)
        finally:
            self.source_store = store


class RecentIndex(DefaultSiteIndexBuilder):
    """GX's index page, listing the validation results in `recent` (set before each build, each
    with its page rendered) instead of every stored result."""

    recent: Sequence[Any] = ()

    def build(self, skip_and_clean_missing: bool = True, build_index: bool = True) -> Any:
        backends = self.target_store.store_backends
        pages = backends[ExpectationSuiteIdentifier]
        backends[ExpectationSuiteIdentifier] = _Prefixed(pages, (pages.filepath_prefix,))
        try:
            return super().build(skip_and_clean_missing, build_index)
        finally:
            backends[ExpectationSuiteIdentifier] = pages

    def _build_validation_and_profiling_result_site_keys(self, skip_and_clean_missing: bool) -> list[Any]:
        return list(self.recent)
