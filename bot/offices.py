"""The offices directory (content/offices.yaml): the city office, its county-level offices, and
finding which office a free-text message names."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from bot.textnorm import normalise


class Contacts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    phone: str
    email: str
    address: str
    hours: str


class Office(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    area: str                                 # 行政区划名: 汉滨区, 安康市
    name: str                                 # the office's name
    aliases: tuple[str, ...] = ()
    not_in: tuple[str, ...] = ()              # texts in which an alias does not name this office
    parent: str | None = None
    is_city: bool = False
    contacts: Contacts
    public_key: str | None = None             # base64 Curve25519, filled at deployment

    @field_validator("public_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise ValueError("public_key is not base64") from exc
        if len(raw) != 32:
            raise ValueError("public_key must be 32 bytes")
        return value

    @property
    def match_names(self) -> tuple[str, ...]:
        """Every normalised name a message may use for this office (area, aliases), no repeats."""
        names = (normalise(n) for n in (self.area, *self.aliases))
        return tuple(dict.fromkeys(n for n in names if n))


class OfficeDirectory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sample: bool = False
    offices: tuple[Office, ...]
    _resolved: Callable[[str], Office | None] = PrivateAttr()

    @model_validator(mode="after")
    def _consistent(self) -> OfficeDirectory:
        codes = [o.code for o in self.offices]
        if len(set(codes)) != len(codes):
            raise ValueError(f"duplicate office codes: {sorted({c for c in codes if codes.count(c) > 1})}")
        cities = [o.code for o in self.offices if o.is_city]
        if len(cities) != 1:
            raise ValueError(f"exactly one city office is required, found {cities}")
        seen: dict[str, str] = {}
        for office in self.offices:
            if office.is_city and office.parent is not None:
                raise ValueError(f"the city office {office.code} cannot have a parent")
            if not office.is_city and office.parent not in codes:
                raise ValueError(f"office {office.code}: parent {office.parent!r} is not in the directory")
            if office.parent == office.code:
                raise ValueError(f"office {office.code} is its own parent")
            for name in office.match_names:
                if name in seen and seen[name] != office.code:
                    raise ValueError(f"alias {name!r} names both {seen[name]} and {office.code}")
                seen[name] = office.code
        return self

    @classmethod
    def load(cls, path: str | Path) -> OfficeDirectory:
        with open(path, encoding="utf-8") as fh:
            return cls.model_validate(yaml.safe_load(fh))

    @property
    def city(self) -> Office:
        return next(o for o in self.offices if o.is_city)

    @property
    def counties(self) -> list[Office]:
        """The county-level offices, in the directory's order."""
        return [o for o in self.offices if not o.is_city]

    def placeholder_values(self) -> dict[str, str]:
        """What ${...} in content/topics stands for: the city office, its phone, every county office's phone."""
        city = self.city
        counties = "\n".join(f"· {o.area}：{o.contacts.phone}" for o in self.counties)
        return {"city_office": city.name, "city_phone": city.contacts.phone, "county_phones": counties}

    def get(self, code: str) -> Office | None:
        return next((o for o in self.offices if o.code == code), None)

    def _matches(self, office: Office, text: str) -> list[tuple[int, int]]:
        """(length, -start) of every place an alias of `office` occurs, outside its `not_in` contexts."""
        excluded: list[tuple[int, int]] = []
        for context in (normalise(c) for c in office.not_in):
            start = text.find(context)
            while context and start != -1:
                excluded.append((start, start + len(context)))
                start = text.find(context, start + 1)
        found = []
        for name in office.match_names:
            start = text.find(name)
            while start != -1:
                end = start + len(name)
                if not any(a <= start and end <= b for a, b in excluded):
                    found.append((len(name), -start))
                start = text.find(name, start + 1)
        return found

    def resolve(self, text: str) -> Office | None:
        """The office a message names: a county over the city, then the longest, then the first match."""
        # pydantic's own slot, not `self._resolved` (its __getattr__ raises two AttributeErrors): KnowledgeBase._cache
        return self.__pydantic_private__["_resolved"](text)  # type: ignore[index,no-any-return]

    def model_post_init(self, context: Any, /) -> None:
        # the directory is fixed: a text names the same office every time (asked once per text, bounded)
        self._resolved = lru_cache(maxsize=4096)(self._resolve)

    def _resolve(self, text: str) -> Office | None:
        norm = normalise(text)
        best: tuple[bool, int, int] | None = None
        chosen: Office | None = None
        for office in self.offices:
            for length, neg_start in self._matches(office, norm):
                key = (not office.is_city, length, neg_start)
                if best is None or key > best:
                    best, chosen = key, office
        return chosen

    def resolve_or_city(self, text: str) -> Office:
        """The office a message names; the city office when it names none of ours."""
        return self.resolve(text) or self.city
