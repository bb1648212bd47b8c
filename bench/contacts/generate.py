#!/usr/bin/env python3
"""Seeded generator of a realistic, messy Salesforce Lead export (Data Export API column names).

    python3 bench/contacts/generate.py --rows 1000000 --seed 42 --out bench/contacts/out/leads-1m.csv

Writes the CSV and, next to it, `<name>.manifest.json` listing how many rows of each kind of
defect were injected, so an import can be checked against known counts. Standard library only;
the same seed always gives the same bytes.
"""

import argparse
import csv
import json
import os
import random
import sys

HEADER = [
    "Id", "Salutation", "FirstName", "LastName", "Title", "Company", "Email", "Phone",
    "MobilePhone", "Street", "City", "State", "PostalCode", "Country", "Website", "Industry",
    "NumberOfEmployees", "AnnualRevenue", "LeadSource", "Status", "Rating", "OwnerId",
    "HasOptedOutOfEmail", "IsConverted", "CreatedDate", "LastModifiedDate",
]

FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
         "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
         "Sarah", "Charles", "Karen", "Jürgen", "Zoë", "François", "Ångström", "Siobhán", "José",
         "Małgorzata", "Søren", "Ana", "Wei", "Priya", "Kenji", "Fatima", "Olusegun", "Nguyen"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
        "Martinez", "Müller", "Schmidt", "O'Neil", "McDonald", "van der Berg", "Dubois", "Rossi",
        "Kowalski", "Nielsen", "Tanaka", "Kim", "Patel", "Singh", "Okafor", "Fernández", "Lefèvre"]
# The common names of a US-centred B2B database (the same pools as keel-match's synthetic
# people), picked Zipf-like so "Smith" is far more common than "Okafor"; half of all surnames
# come from a long tail, as in a real lead database of a million people.
FIRST_COMMON = [
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas",
    "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul",
    "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Edward",
    "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen", "Larry",
    "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory", "Alexander", "Frank", "Patrick",
    "Raymond", "Jack", "Dennis", "Jerry", "Tyler", "Aaron", "Jose", "Adam", "Nathan", "Henry",
    "Douglas", "Zachary", "Peter", "Kyle", "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth",
    "Barbara", "Susan", "Jessica", "Sarah", "Karen", "Lisa", "Nancy", "Betty", "Margaret", "Sandra",
    "Ashley", "Kimberly", "Emily", "Donna", "Michelle", "Carol", "Amanda", "Dorothy", "Melissa",
    "Deborah", "Stephanie", "Rebecca", "Sharon", "Laura", "Cynthia", "Kathleen", "Amy", "Angela",
    "Shirley", "Anna", "Brenda", "Pamela", "Emma", "Nicole", "Helen", "Samantha", "Katherine",
    "Christine", "Debra", "Rachel", "Carolyn", "Janet", "Catherine", "Maria", "Heather", "Diane",
    "Ruth", "Julie", "Olivia", "Joyce", "Virginia", "Victoria", "Kelly", "Lauren", "Christina",
    "Joan", "Evelyn", "Judith", "Megan", "Andrea", "Cheryl", "Hannah", "Jacqueline", "Martha",
    "Gloria", "Priya", "Wei", "Mohammed", "Fatima", "Hiroshi", "Yuki", "Olga", "Ivan", "Chloe",
    "Lucas", "Sofia", "Mateo", "Aisha", "Omar", "Ingrid", "Lars", "Zoe", "Noah", "Leila", "Arjun",
]
LAST_COMMON = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly",
    "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood",
    "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins", "Perry",
    "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes", "Gonzales", "Fisher",
    "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham",
    "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera",
    "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray", "Ford", "Castro",
    "Marshall", "Owens", "Harrison", "Fernandez", "Mcdonald", "Woods", "Washington", "Kennedy",
    "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford",
    "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason",
    "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd",
    "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza",
    "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne",
    "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold", "Pierce", "Vazquez", "Hansen",
    "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott", "Cunningham", "Duncan", "Armstrong",
    "Hudson", "Carroll", "Lane", "Riley", "Andrews", "Alvarado", "Ray", "Delgado", "Berry",
    "Perkins", "Hoffman", "Johnston", "Matthews", "Pena", "Richards", "Contreras", "Willis",
    "Okafor", "Nakamura", "Kowalski", "Oconnor", "Lindqvist", "Abernathy", "Quispe", "Haddad",
    "Novak", "Fitzgerald", "Yamamoto", "Schneider", "Dubois", "Rossi", "Moller", "Ivanova",
    "Papadopoulos", "Oyelaran", "Mbeki", "Zhang",
]
LAST_TAIL = [
    "son", "ley", "ton", "er", "man", "ford", "wood", "field", "berg", "stein", "ski", "ez", "ini",
    "ova", "well", "by", "more", "ham", "dale", "worth",
]
COMPANY_WORDS = [
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Cyberdyne", "Hooli",
    "Vandelay", "Soylent", "Tyrell", "Massive", "Aperture", "Black Mesa", "Oscorp", "Pied Piper",
    "Gringotts", "Monarch", "Nakatomi", "Blue Sky", "North Star", "Red Rock", "Silver Lake",
    "Green Leaf", "Bright Path", "Iron Gate", "Cedar", "Summit", "Harbor", "Pinnacle", "Keystone",
    "Evergreen", "Atlas", "Horizon", "Beacon", "Quantum", "Nimbus", "Vertex", "Zenith",
]
COMPANY_KINDS = [
    "Robotics", "Systems", "Analytics", "Logistics", "Foods", "Capital", "Health", "Media",
    "Software", "Energy", "Labs", "Partners", "Consulting", "Industries", "Networks", "Solutions",
    "Dynamics", "Ventures", "Brands", "Retail",
]
COMPANY_A = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Hooli", "Pied Piper",
             "Vandelay", "Soylent", "Cyberdyne", "Tyrell", "Massive Dynamic", "Aperture", "Gringotts"]
COMPANY_B = ["Inc", "Inc.", "LLC", "GmbH", "Ltd", "Corp", "Corporation", "SA", "AG", "BV", "", "Group"]
TITLES = ["Marketing Manager", "Director of Marketing", "VP Marketing", "CMO", "Marketing Ops Specialist",
          "Demand Generation Manager", "Sales Rep", "Head of Growth", "Student", "Intern", "CEO",
          "Chief Revenue Officer", "Content Strategist", "  marketing manager  ", "dir. marketing", ""]
INDUSTRIES = ["Software", "Manufacturing", "Healthcare", "Financial Services", "Retail", "Education",
              "Media", "Telecommunications", "Energy", ""]
SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Webinar",
           "Advertisement", "Other", "web", "Website", "tradeshow", "Referral"]
STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted",
            "open", "Working", "New"]
RATINGS = ["Hot", "Warm", "Cold", "", "", "warm"]
FREE = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "web.de", "gmx.de", "icloud.com"]
DISPOSABLE = ["mailinator.com", "yopmail.com", "guerrillamail.com"]
ROLES = ["info", "sales", "marketing", "contact", "hello"]

# (country spelling, alpha-2, phone region national format maker, states)
COUNTRIES = [
    (["United States", "USA", "US", "U.S.A.", "united states", "America"], "US", ["CA", "NY", "TX", "WA", "MA", "IL"]),
    (["Germany", "DE", "Deutschland", "DEU"], "DE", ["BY", "BE", "HH", "NW"]),
    (["United Kingdom", "UK", "GB", "England", "Great Britain"], "GB", ["London", "Manchester", ""]),
    (["France", "FR", "france"], "FR", [""]),
    (["Canada", "CA"], "CA", ["ON", "QC", "BC"]),
    (["Netherlands", "NL", "Holland"], "NL", [""]),
    (["Spain", "ES", "España"], "ES", [""]),
    (["Japan", "JP"], "JP", [""]),
    (["India", "IN"], "IN", [""]),
    (["Atlantis", "N/A", "Europe", "Unknown"], None, [""]),  # not countries: quarantined
]
COUNTRY_WEIGHTS = [45, 12, 10, 6, 6, 4, 3, 3, 3, 0.8]


def phone(rng, code):
    """A phone number for `code`, in one of the formats people type."""
    if code == "US" or code == "CA":
        area = rng.choice(["415", "212", "617", "312", "206", "416", "514"])
        n = f"{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        return rng.choice([f"({area}) {n[:3]}-{n[3:]}", f"{area}-{n[:3]}-{n[3:]}", f"+1 {area} {n[:3]} {n[3:]}",
                           f"1{area}{n}", f"{area}.{n[:3]}.{n[3:]}", f"({area}) {n[:3]}-{n[3:]} x{rng.randint(10, 999)}"])
    if code == "DE":
        return rng.choice([f"+49 30 {rng.randint(1000000, 9999999)}", f"+49 (0)89 {rng.randint(100000, 9999999)}",
                           f"0049 40 {rng.randint(1000000, 9999999)}"])
    if code == "GB":
        return rng.choice([f"+44 20 7946 {rng.randint(0, 999):04d}", f"+44 (0)20 7946 {rng.randint(0, 999):04d}", f"020 7946 {rng.randint(0, 999):04d}"])
    if code == "FR":
        return f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return rng.choice([f"+81 3 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}", f"+31 20 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                       f"+34 91 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}", f"+91 98{rng.randint(100, 999)} {rng.randint(10000, 99999)}"])


def slug(s):
    return "".join(c for c in s.lower() if c.isalnum())


def zipf(rng, xs):
    """Zipf-like pick: early entries are much more common."""
    return xs[min(int(len(xs) ** rng.random()) - 1, len(xs) - 1)]


def person_name(rng):
    """A first and a last name: mostly common US names, some international spellings, and
    surnames from a long tail."""
    first = rng.choice(FIRST) if rng.random() < 0.15 else zipf(rng, FIRST_COMMON)
    r = rng.random()
    if r < 0.1:
        last = rng.choice(LAST)
    elif r < 0.55:
        last = zipf(rng, LAST_COMMON)
    else:
        last = rng.choice(LAST_COMMON) + rng.choice(LAST_TAIL)
    return first, last


def company_name(rng):
    """A company: a few well-known made-up brands, many "<word> <kind>" companies, and a long
    tail named after people ("Harris & Cole", "Lopez Analytics")."""
    r = rng.random()
    if r < 0.1:
        return f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}".strip()
    if r < 0.5:
        return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {rng.choice(COMPANY_B)}".strip()
    if r < 0.8:
        return f"{rng.choice(LAST_COMMON)} {rng.choice(COMPANY_KINDS)} {rng.choice(COMPANY_B)}".strip()
    return f"{rng.choice(LAST_COMMON)} & {rng.choice(LAST_COMMON)} {rng.choice(COMPANY_B)}".strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "out", "leads-1m.csv"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    defects = {k: 0 for k in ["bad_email", "missing_email", "missing_last_name", "bad_country", "bad_phone",
                              "bad_employees", "bad_enum", "bad_date", "ragged_row", "exact_duplicate",
                              "fuzzy_duplicate", "role_address", "disposable_address", "free_address",
                              "opted_out"]}
    recent = []  # recent rows, for duplicates
    owners = [f"005{rng.randint(10**11, 10**12 - 1)}" for _ in range(40)]
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(HEADER)
        for i in range(args.rows):
            lead_id = f"00Q{i:012d}"
            r = rng.random()
            if recent and r < 0.01:
                defects["exact_duplicate"] += 1
                w.writerow(rng.choice(recent))
                continue
            if recent and r < 0.05:
                # Same person again, typed differently: a job for the matching engine.
                defects["fuzzy_duplicate"] += 1
                row = list(rng.choice(recent))
                row[0] = lead_id
                row[2] = row[2].upper() if rng.random() < 0.5 else f" {row[2]} "
                row[6] = row[6].upper()
                row[7] = ""
                w.writerow(row)
                continue
            first, last = person_name(rng)
            company = company_name(rng)
            words = [w for w in company.split() if w != "&"]
            domain = slug("".join(words[:2])) + rng.choice([".com", ".io", ".de", ".co.uk", ".net"])
            spellings, code, states = rng.choices(COUNTRIES, weights=COUNTRY_WEIGHTS)[0]
            country = rng.choice(spellings)
            if code is None:
                defects["bad_country"] += 1
            e = rng.random()
            if e < 0.005:
                email = ""
                defects["missing_email"] += 1
            elif e < 0.02:
                email = rng.choice([f"{first}.{last}@{domain}".replace("@", " at "), f"{slug(first)}@{slug(company)}",
                                    f"{slug(first)}@@{domain}", f"{slug(first)}.{slug(last)}@{domain},"])
                defects["bad_email"] += 1
            elif e < 0.04:
                email = f"{rng.choice(ROLES)}@{domain}"
                defects["role_address"] += 1
            elif e < 0.05:
                email = f"{slug(first)}{rng.randint(1, 99)}@{rng.choice(DISPOSABLE)}"
                defects["disposable_address"] += 1
            elif e < 0.20:
                email = f"{slug(first)}.{slug(last)}{rng.randint(1, 999)}@{rng.choice(FREE)}"
                defects["free_address"] += 1
            else:
                email = f"{slug(first)}.{slug(last)}@{domain}"
                if rng.random() < 0.2:
                    email = email.capitalize()
                if rng.random() < 0.05:
                    email = f"  {email} "
            if rng.random() < 0.01:
                last = ""
                defects["missing_last_name"] += 1
            elif rng.random() < 0.2:
                last = last.upper()
            if rng.random() < 0.15:
                first = first.lower()
            ph = phone(rng, code or "US") if rng.random() < 0.7 else ""
            if ph and rng.random() < 0.01:
                ph = rng.choice(["n/a", "123", "call me", "+1 555"])
                defects["bad_phone"] += 1
            mobile = phone(rng, code or "US") if rng.random() < 0.2 else ""
            emp = rng.choice(["", str(rng.randint(1, 50)), str(rng.randint(51, 1000)), f"{rng.randint(1, 99)},{rng.randint(0, 999):03d}"])
            if rng.random() < 0.005:
                emp = rng.choice(["-1", "lots", "10-50"])
                defects["bad_employees"] += 1
            rev = rng.choice(["", f"{rng.randint(1, 500) * 100000}", f"${rng.randint(1, 900)},000,000", f"{rng.randint(1, 99)}000000.00"])
            source, status = rng.choice(SOURCES), rng.choice(STATUSES)
            if rng.random() < 0.01:
                # Values the contract does not know: quarantined.
                if rng.random() < 0.5:
                    source = "LinkedIn"
                else:
                    status = "Nurture"
                defects["bad_enum"] += 1
            created_day = rng.randint(1, 28)
            created = f"20{rng.randint(19, 26)}-{rng.randint(1, 12):02d}-{created_day:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.000+0000"
            modified = created if rng.random() < 0.5 else created[:8] + f"{min(28, created_day + 1):02d}" + created[10:]
            if rng.random() < 0.002:
                created = rng.choice(["31/02/2024", "yesterday", "2024-13-01"])
                defects["bad_date"] += 1
            opted = rng.choice(["false", "false", "false", "0", "true"])
            if opted in ("true",):
                defects["opted_out"] += 1
            row = [lead_id, rng.choice(["", "Mr.", "Ms.", "Dr."]), first, last, rng.choice(TITLES), company, email, ph,
                   mobile, f"{rng.randint(1, 999)} {rng.choice(['Main St', 'Market Street', 'Hauptstraße', 'Rue de Rivoli', 'High St'])}",
                   rng.choice(["San Francisco", "new york", "Berlin", "London", "Paris", "Toronto", "  Boston "]),
                   rng.choice(states), f"{rng.randint(10000, 99999)}", country, rng.choice(["", domain, f"www.{domain}", f"https://{domain}/", f"HTTP://WWW.{domain.upper()}"]),
                   rng.choice(INDUSTRIES), emp, rev, source, status, rng.choice(RATINGS), rng.choice(owners), opted,
                   rng.choice(["false", "false", "true"]), created, modified]
            if rng.random() < 0.001:
                row = row[: rng.randint(3, len(row) - 2)]
                defects["ragged_row"] += 1
            w.writerow(row)
            if len(row) == len(HEADER):
                recent.append(row)
            if len(recent) > 5000:
                recent.pop(rng.randrange(len(recent)))
    manifest = {"rows": args.rows, "seed": args.seed, "layout": "salesforce-lead", "injected": defects}
    with open(os.path.splitext(args.out)[0] + ".manifest.json", "w", encoding="utf-8") as m:
        json.dump(manifest, m, indent=2, sort_keys=True)
        m.write("\n")
    print(json.dumps(manifest, sort_keys=True), file=sys.stderr)


if __name__ == "__main__":
    main()
