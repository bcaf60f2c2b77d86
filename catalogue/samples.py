"""Realistic catalogue data for the benchmark: titles, authors, years.

Deterministic for a seed. About 1% of the rows repeat a recent title and
author with another year, so the in-file "last row wins" reduction is part
of every run; about 5% of the titles carry non-ASCII words, some carry
commas or quotes.
"""

import random
from collections.abc import Iterator

_WORDS = (
    "the of and a in to is was for on that with as by at from his her an "
    "which or be are this had not but what all were when we there can been "
    "one do will their if would about out many then them these so some time "
    "house night river garden winter summer letters journey secret empire "
    "shadow light silence memory city island storm glass forest mountain "
    "stranger daughter son kingdom queen king war peace history art science "
    "life death love dream ocean fire stone iron golden silver black white "
    "red blue green last first long short little great new old hidden lost"
).split()
_WORDS_INTL = (
    "Кобзар Лісова пісня Тіні забутих предків місто ніч зима сад "
    "café naïve Straße Ærø Łódź Žižek Çelik señor façade über "
    "Ñandú Ørsted Šťastný Ångström crème brûlée"
).split()
_FIRST = (
    "Anna Olena Taras Lesya Ivan Maria John Jane Peter Paul Mary Linda Robert "
    "James Patricia Michael Barbara William Elizabeth David Susan Richard "
    "Jessica Joseph Sarah Thomas Karen Charles Nancy Daniel Lisa Matthew Betty "
    "Анна Олена Тарас Леся Іван Марія Богдан Ольга Юрій Ірина "
    "José Zoë Chloé Søren Jürgen Agnieszka Łukasz Dvořák Renée Björn"
).split()
_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez "
    "Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson "
    "Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores "
    "Шевченко Українка Франко Коцюбинський Стефаник Костенко Забужко "
    "Андрухович Жадан Сковорода Müller Schröder Łęcki Nøkleby García Ibáñez "
    "O'Brien Dvořáková Åberg Ćosić"
).split()


def author_names(count: int) -> list[str]:
    """Return *count* distinct, realistic author names, always the same ones."""
    names, first, last = [], len(_FIRST), len(_LAST)
    for i in range(count):
        initial = chr(ord("A") + (i // first) % 26)
        name = f"{_FIRST[i % first]} {initial}. {_LAST[(i // (first * 26)) % last]}"
        if i >= first * 26 * last:
            name = f"{name} {i // (first * 26 * last) + 1}"
        names.append(name)
    return names


def books_rows(*, rows: int, authors: int, seed: int) -> Iterator[list[str]]:
    """Yield *rows* ``[title, author, year]`` rows by *authors* distinct authors."""
    rng = random.Random(seed)
    names = author_names(authors)
    recent: list[tuple[str, str]] = []
    for i in range(rows):
        roll = rng.random()
        if roll < 0.01 and recent:
            title, author = rng.choice(recent)
        else:
            words = rng.choices(_WORDS, k=rng.randint(2, 9))
            if roll > 0.95:
                words.append(rng.choice(_WORDS_INTL))
            if roll > 0.995:
                words.insert(1, '"quoted",')
            title = " ".join(words).capitalize()
            author = names[rng.randrange(authors)]
            if i % 100 == 0:
                recent.append((title, author))
                del recent[:-1000]
        yield [title, author, str(rng.randint(1800, 2025))]
