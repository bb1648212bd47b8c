//! Seeded synthetic B2B lead data with known duplicates, for tests and benchmarks.
//!
//! The data is deliberately hard in the way real lead databases are: most people work at a
//! company and share its name, office address, postcode, switchboard number and email domain
//! with many colleagues; consumers live in households that share a surname, home address and
//! landline. Duplicates carry typos, nicknames, swapped names, missing fields, email and phone
//! variants, company suffix and address abbreviation variants, and some people have moved.

use crate::model::SplitMix;

/// Column names of generated rows (after the id).
pub const COLUMNS: [&str; 7] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "address",
    "postcode",
];

/// A generated record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    /// Record id.
    pub id: String,
    /// The true entity (person) this record describes.
    pub entity: u32,
    /// Values in [`COLUMNS`] order.
    pub values: [String; 7],
}

const FIRST: &[&str] = &[
    "james",
    "john",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "christopher",
    "daniel",
    "matthew",
    "anthony",
    "mark",
    "donald",
    "steven",
    "paul",
    "andrew",
    "joshua",
    "kenneth",
    "kevin",
    "brian",
    "george",
    "timothy",
    "ronald",
    "edward",
    "jason",
    "jeffrey",
    "ryan",
    "jacob",
    "gary",
    "nicholas",
    "eric",
    "jonathan",
    "stephen",
    "larry",
    "justin",
    "scott",
    "brandon",
    "benjamin",
    "samuel",
    "gregory",
    "alexander",
    "frank",
    "patrick",
    "raymond",
    "jack",
    "dennis",
    "jerry",
    "tyler",
    "aaron",
    "jose",
    "adam",
    "nathan",
    "henry",
    "douglas",
    "zachary",
    "peter",
    "kyle",
    "mary",
    "patricia",
    "jennifer",
    "linda",
    "elizabeth",
    "barbara",
    "susan",
    "jessica",
    "sarah",
    "karen",
    "lisa",
    "nancy",
    "betty",
    "margaret",
    "sandra",
    "ashley",
    "kimberly",
    "emily",
    "donna",
    "michelle",
    "carol",
    "amanda",
    "dorothy",
    "melissa",
    "deborah",
    "stephanie",
    "rebecca",
    "sharon",
    "laura",
    "cynthia",
    "kathleen",
    "amy",
    "angela",
    "shirley",
    "anna",
    "brenda",
    "pamela",
    "emma",
    "nicole",
    "helen",
    "samantha",
    "katherine",
    "christine",
    "debra",
    "rachel",
    "carolyn",
    "janet",
    "catherine",
    "maria",
    "heather",
    "diane",
    "ruth",
    "julie",
    "olivia",
    "joyce",
    "virginia",
    "victoria",
    "kelly",
    "lauren",
    "christina",
    "joan",
    "evelyn",
    "judith",
    "megan",
    "andrea",
    "cheryl",
    "hannah",
    "jacqueline",
    "martha",
    "gloria",
    "priya",
    "wei",
    "mohammed",
    "fatima",
    "hiroshi",
    "yuki",
    "olga",
    "ivan",
    "chloe",
    "lucas",
    "sofia",
    "mateo",
    "aisha",
    "omar",
    "ingrid",
    "lars",
    "zoe",
    "noah",
    "leila",
    "arjun",
];

const LAST: &[&str] = &[
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "gomez",
    "phillips",
    "evans",
    "turner",
    "diaz",
    "parker",
    "cruz",
    "edwards",
    "collins",
    "reyes",
    "stewart",
    "morris",
    "morales",
    "murphy",
    "cook",
    "rogers",
    "gutierrez",
    "ortiz",
    "morgan",
    "cooper",
    "peterson",
    "bailey",
    "reed",
    "kelly",
    "howard",
    "ramos",
    "kim",
    "cox",
    "ward",
    "richardson",
    "watson",
    "brooks",
    "chavez",
    "wood",
    "james",
    "bennett",
    "gray",
    "mendoza",
    "ruiz",
    "hughes",
    "price",
    "alvarez",
    "castillo",
    "sanders",
    "patel",
    "myers",
    "long",
    "ross",
    "foster",
    "jimenez",
    "powell",
    "jenkins",
    "perry",
    "russell",
    "sullivan",
    "bell",
    "coleman",
    "butler",
    "henderson",
    "barnes",
    "gonzales",
    "fisher",
    "vasquez",
    "simmons",
    "romero",
    "jordan",
    "patterson",
    "alexander",
    "hamilton",
    "graham",
    "reynolds",
    "griffin",
    "wallace",
    "moreno",
    "west",
    "cole",
    "hayes",
    "bryant",
    "herrera",
    "gibson",
    "ellis",
    "tran",
    "medina",
    "aguilar",
    "stevens",
    "murray",
    "ford",
    "castro",
    "marshall",
    "owens",
    "harrison",
    "fernandez",
    "mcdonald",
    "woods",
    "washington",
    "kennedy",
    "wells",
    "vargas",
    "henry",
    "chen",
    "freeman",
    "webb",
    "tucker",
    "guzman",
    "burns",
    "crawford",
    "olson",
    "simpson",
    "porter",
    "hunter",
    "gordon",
    "mendez",
    "silva",
    "shaw",
    "snyder",
    "mason",
    "dixon",
    "munoz",
    "hunt",
    "hicks",
    "holmes",
    "palmer",
    "wagner",
    "black",
    "robertson",
    "boyd",
    "rose",
    "stone",
    "salazar",
    "fox",
    "warren",
    "mills",
    "meyer",
    "rice",
    "schmidt",
    "garza",
    "daniels",
    "ferguson",
    "nichols",
    "stephens",
    "soto",
    "weaver",
    "ryan",
    "gardner",
    "payne",
    "grant",
    "dunn",
    "kelley",
    "spencer",
    "hawkins",
    "arnold",
    "pierce",
    "vazquez",
    "hansen",
    "peters",
    "santos",
    "hart",
    "bradley",
    "knight",
    "elliott",
    "cunningham",
    "duncan",
    "armstrong",
    "hudson",
    "carroll",
    "lane",
    "riley",
    "andrews",
    "alvarado",
    "ray",
    "delgado",
    "berry",
    "perkins",
    "hoffman",
    "johnston",
    "matthews",
    "pena",
    "richards",
    "contreras",
    "willis",
    "okafor",
    "nakamura",
    "kowalski",
    "oconnor",
    "lindqvist",
    "abernathy",
    "quispe",
    "haddad",
    "novak",
    "fitzgerald",
    "yamamoto",
    "schneider",
    "dubois",
    "rossi",
    "moller",
    "ivanova",
    "papadopoulos",
    "oyelaran",
    "mbeki",
    "zhang",
];

/// Endings that make the long tail of rarer family names (most people do not have one of the
/// 250 most common names).
const LAST_TAIL: &[&str] = &[
    "son", "ley", "ton", "er", "man", "ford", "wood", "field", "berg", "stein", "ski", "ez", "ini",
    "ova", "well", "by", "more", "ham", "dale", "worth",
];

const NICK: &[(&str, &str)] = &[
    ("robert", "bob"),
    ("robert", "rob"),
    ("william", "bill"),
    ("william", "will"),
    ("elizabeth", "liz"),
    ("elizabeth", "beth"),
    ("james", "jim"),
    ("john", "jack"),
    ("michael", "mike"),
    ("richard", "rick"),
    ("joseph", "joe"),
    ("thomas", "tom"),
    ("charles", "chuck"),
    ("christopher", "chris"),
    ("daniel", "dan"),
    ("matthew", "matt"),
    ("anthony", "tony"),
    ("steven", "steve"),
    ("andrew", "andy"),
    ("kenneth", "ken"),
    ("timothy", "tim"),
    ("edward", "ed"),
    ("jeffrey", "jeff"),
    ("nicholas", "nick"),
    ("jonathan", "jon"),
    ("samuel", "sam"),
    ("benjamin", "ben"),
    ("margaret", "peggy"),
    ("patricia", "pat"),
    ("jennifer", "jen"),
    ("susan", "sue"),
    ("jessica", "jess"),
    ("katherine", "kate"),
    ("deborah", "debbie"),
    ("rebecca", "becky"),
    ("samantha", "sam"),
    ("victoria", "vicky"),
    ("pamela", "pam"),
    ("catherine", "cathy"),
    ("alexander", "alex"),
];

const COMPANY_A: &[&str] = &[
    "acme",
    "globex",
    "initech",
    "umbrella",
    "stark",
    "wayne",
    "wonka",
    "cyberdyne",
    "hooli",
    "vandelay",
    "soylent",
    "tyrell",
    "massive",
    "aperture",
    "black mesa",
    "oscorp",
    "pied piper",
    "gringotts",
    "monarch",
    "nakatomi",
    "blue sky",
    "north star",
    "red rock",
    "silver lake",
    "green leaf",
    "bright path",
    "iron gate",
    "cedar",
    "summit",
    "harbor",
    "pinnacle",
    "keystone",
    "evergreen",
    "atlas",
    "horizon",
    "beacon",
    "quantum",
    "nimbus",
    "vertex",
    "zenith",
];
const COMPANY_B: &[&str] = &[
    "robotics",
    "systems",
    "analytics",
    "logistics",
    "foods",
    "capital",
    "health",
    "media",
    "software",
    "energy",
    "labs",
    "partners",
    "consulting",
    "industries",
    "networks",
    "solutions",
    "dynamics",
    "ventures",
    "brands",
    "retail",
];
const SUFFIX: &[&str] = &[
    "Inc",
    "Inc.",
    ", Inc.",
    "LLC",
    "Ltd",
    "Corp",
    "Corporation",
    "Co.",
    "",
];
const STREETS: &[&str] = &[
    "main",
    "oak",
    "pine",
    "maple",
    "cedar",
    "elm",
    "washington",
    "lake",
    "hill",
    "park",
    "river",
    "sunset",
    "church",
    "mill",
    "spring",
    "highland",
    "forest",
    "meadow",
    "ridge",
    "valley",
    "market",
    "broad",
    "union",
    "center",
];
const STREET_TYPES: &[(&str, &str)] = &[
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Road", "Rd"),
    ("Boulevard", "Blvd"),
    ("Drive", "Dr"),
    ("Lane", "Ln"),
    ("Court", "Ct"),
];
const DIRS: &[(&str, &str)] = &[("North", "N"), ("South", "S"), ("East", "E"), ("West", "W")];
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
];
const AREA: &[&str] = &[
    "212", "415", "312", "617", "206", "303", "512", "404", "213", "646", "720", "617", "919",
    "503",
];

struct Rng(SplitMix);

impl Rng {
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs.get(self.below(xs.len())).copied().unwrap_or("")
    }
    /// Zipf-like pick: early entries are much more common ("smith" over "okafor").
    fn zipf<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        let u = self.unit();
        let i = ((xs.len() as f64).powf(u) - 1.0) as usize;
        xs.get(i.min(xs.len().saturating_sub(1)))
            .copied()
            .unwrap_or("")
    }
    /// A family name: common names Zipf-distributed, half of people from a long tail.
    fn surname(&mut self) -> String {
        if self.chance(0.5) {
            self.zipf(LAST).to_string()
        } else {
            format!("{}{}", self.pick(LAST), self.pick(LAST_TAIL))
        }
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.below(10) as u8)))
            .collect()
    }
}

#[derive(Clone)]
struct Place {
    company: String,
    domain: String,
    phone: String,
    number: u32,
    dir: usize,
    street: String,
    street_type: usize,
    unit: Option<u32>,
    postcode: String,
}

struct Person {
    first: String,
    last: String,
    email: String,
    phone: String,
    place: Place,
}

fn title(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn new_place(rng: &mut Rng, company: Option<String>) -> Place {
    let postcode = format!("{:05}", 10000 + rng.below(89999));
    let (company, domain) = match company {
        Some(c) => {
            let d = format!("{}.com", c.replace(' ', ""));
            (c, d)
        }
        None => (String::new(), String::new()),
    };
    Place {
        company,
        domain,
        phone: format!(
            "{}{}{}",
            rng.pick(AREA),
            200 + rng.below(799),
            rng.digits(4)
        ),
        number: 1 + rng.below(9999) as u32,
        dir: rng.below(DIRS.len() * 3),
        street: rng.pick(STREETS).to_string(),
        street_type: rng.below(STREET_TYPES.len()),
        unit: rng.chance(0.3).then(|| 1 + rng.below(40) as u32),
        postcode,
    }
}

fn typo(rng: &mut Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 3 {
        return s.to_string();
    }
    let i = 1 + rng.below(c.len() - 1);
    match rng.below(4) {
        0 => {
            c.remove(i);
        }
        1 => {
            let j = i - 1;
            c.swap(i, j);
        }
        2 => c.insert(i, char::from(b'a' + rng.below(26) as u8)),
        _ => {
            if let Some(x) = c.get_mut(i) {
                *x = char::from(b'a' + rng.below(26) as u8);
            }
        }
    }
    c.into_iter().collect()
}

fn format_phone(rng: &mut Rng, digits: &str) -> String {
    let (a, rest) = digits.split_at(3.min(digits.len()));
    let (b, c) = rest.split_at(3.min(rest.len()));
    match rng.below(5) {
        0 => format!("({a}) {b}-{c}"),
        1 => format!("{a}-{b}-{c}"),
        2 => format!("+1 {a} {b} {c}"),
        3 => format!("{a}.{b}.{c}"),
        _ => format!("1{a}{b}{c}"),
    }
}

fn format_address(rng: &mut Rng, p: &Place) -> String {
    let short = rng.chance(0.5);
    let dir = DIRS.get(p.dir).map(|(l, s)| if short { *s } else { *l });
    let (tl, ts) = STREET_TYPES
        .get(p.street_type)
        .copied()
        .unwrap_or(("Street", "St"));
    let st = if rng.chance(0.5) { ts } else { tl };
    let mut out = format!("{} ", p.number);
    if let Some(d) = dir {
        out.push_str(d);
        out.push(' ');
    }
    out.push_str(&title(&p.street));
    out.push(' ');
    out.push_str(st);
    if let Some(u) = p.unit {
        out.push_str(match rng.below(3) {
            0 => ", Apt ",
            1 => " #",
            _ => " Suite ",
        });
        out.push_str(&u.to_string());
    }
    out
}

fn work_email(rng: &mut Rng, first: &str, last: &str, domain: &str) -> String {
    let f = first.chars().next().unwrap_or('x');
    match rng.below(3) {
        0 => format!("{first}.{last}@{domain}"),
        1 => format!("{f}{last}@{domain}"),
        _ => format!("{first}{}@{domain}", last.chars().next().unwrap_or('x')),
    }
}

fn personal_email(rng: &mut Rng, first: &str, last: &str) -> String {
    let n = rng.below(100);
    format!("{first}.{last}{n}@{}", rng.pick(FREE_MAIL))
}

/// Generates about `n` lead records with known entities. Same seed, same data.
pub fn generate(n: usize, seed: u64) -> Vec<Lead> {
    let mut rng = Rng(SplitMix::new(seed));
    // Companies: sizes are skewed, a few have hundreds of leads.
    let n_companies = (n / 25).max(2);
    let companies: Vec<Place> = (0..n_companies)
        .map(|i| {
            let name = format!("{} {}", rng.pick(COMPANY_A), rng.pick(COMPANY_B));
            let name = if i >= COMPANY_A.len() * COMPANY_B.len() / 2 {
                format!("{name} {}", i % 97)
            } else {
                name
            };
            new_place(&mut rng, Some(name))
        })
        .collect();
    let mut leads = Vec::with_capacity(n + n / 4);
    let mut entity = 0u32;
    let mut household: Option<(String, Place, u32)> = None;
    // Mail systems never hand the same address to two people.
    let mut emails: std::collections::HashSet<String> = std::collections::HashSet::new();
    while leads.len() < n {
        let b2b = rng.chance(0.7);
        let first = rng.pick(FIRST).to_string();
        let person = if b2b {
            let idx = ((rng.unit().powi(3)) * n_companies as f64) as usize;
            let place = companies
                .get(idx.min(n_companies - 1))
                .cloned()
                .unwrap_or_else(|| new_place(&mut rng, None));
            let last = rng.surname();
            let email = work_email(&mut rng, &first, &last, &place.domain);
            let phone = if rng.chance(0.5) {
                place.phone.clone()
            } else {
                format!(
                    "{}{}{}",
                    rng.pick(AREA),
                    200 + rng.below(799),
                    rng.digits(4)
                )
            };
            Person {
                first,
                last,
                email,
                phone,
                place,
            }
        } else {
            // Households: consecutive consumers often share surname, address and landline.
            let (last, place) = match household.take() {
                Some((l, p, left)) if left > 0 => {
                    household = Some((l.clone(), p.clone(), left - 1));
                    (l, p)
                }
                _ => {
                    let l = rng.surname();
                    let p = new_place(&mut rng, None);
                    household = Some((l.clone(), p.clone(), rng.below(4) as u32));
                    (l, p)
                }
            };
            let email = personal_email(&mut rng, &first, &last);
            let phone = if rng.chance(0.6) {
                place.phone.clone()
            } else {
                format!(
                    "{}{}{}",
                    rng.pick(AREA),
                    200 + rng.below(799),
                    rng.digits(4)
                )
            };
            Person {
                first,
                last,
                email,
                phone,
                place,
            }
        };
        let mut person = person;
        let mut k = 2;
        while !emails.insert(person.email.clone()) {
            person.email = person.email.replacen('@', &format!("{k}@"), 1);
            k += 1;
        }
        let copies = match rng.unit() {
            u if u < 0.55 => 1,
            u if u < 0.82 => 2,
            u if u < 0.94 => 3,
            _ => 4,
        };
        for copy in 0..copies {
            leads.push(render(&mut rng, &person, entity, copy > 0));
        }
        entity += 1;
    }
    // Shuffle so duplicates are not adjacent, then number the records.
    for i in (1..leads.len()).rev() {
        let j = rng.below(i + 1);
        leads.swap(i, j);
    }
    for (i, l) in leads.iter_mut().enumerate() {
        l.id = format!("r{i:07}");
    }
    leads
}

fn render(rng: &mut Rng, p: &Person, entity: u32, variant: bool) -> Lead {
    let mut first = p.first.clone();
    let mut last = p.last.clone();
    let mut email = p.email.clone();
    let mut phone = p.phone.clone();
    let mut place = p.place.clone();
    if variant {
        if rng.chance(0.15)
            && let Some((_, nick)) = NICK.iter().find(|(f, _)| *f == first)
        {
            first = (*nick).to_string();
        }
        if rng.chance(0.12) {
            first = typo(rng, &first);
        }
        if rng.chance(0.1) {
            last = typo(rng, &last);
        }
        if rng.chance(0.05) {
            first = first.chars().next().map(String::from).unwrap_or_default();
        }
        if rng.chance(0.08) {
            // Moved or changed job: new place, new email and phone.
            let company = (!place.company.is_empty())
                .then(|| format!("{} {}", rng.pick(COMPANY_A), rng.pick(COMPANY_B)));
            place = new_place(rng, company);
            email = if place.domain.is_empty() {
                personal_email(rng, &p.first, &p.last)
            } else {
                work_email(rng, &p.first, &p.last, &place.domain)
            };
            phone = format!(
                "{}{}{}",
                rng.pick(AREA),
                200 + rng.below(799),
                rng.digits(4)
            );
        } else {
            match rng.below(10) {
                0 => email = personal_email(rng, &p.first, &p.last),
                1 => email = email.replace('@', "+promo@"),
                2 if email.ends_with("gmail.com") => {
                    email = email.replace("gmail.com", "gmial.com")
                }
                3 => email = typo(rng, &email),
                _ => {}
            }
            if rng.chance(0.15) {
                phone = format!(
                    "{}{}{}",
                    rng.pick(AREA),
                    200 + rng.below(799),
                    rng.digits(4)
                );
            }
        }
    }
    let swap = variant && rng.chance(0.03);
    let (f, l) = if swap { (last, first) } else { (first, last) };
    let mut values = [
        if rng.chance(0.5) {
            title(&f)
        } else {
            f.to_uppercase()
        },
        title(&l),
        if rng.chance(0.2) {
            email.to_uppercase()
        } else {
            email
        },
        format_phone(rng, &phone),
        if place.company.is_empty() {
            String::new()
        } else {
            format!("{} {}", title(&place.company), rng.pick(SUFFIX))
                .trim()
                .to_string()
        },
        format_address(rng, &place),
        place.postcode.clone(),
    ];
    for v in values.iter_mut().skip(2) {
        if rng.chance(0.08) {
            v.clear();
        }
    }
    Lead {
        id: String::new(),
        entity,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_seeded_and_has_duplicates() {
        let a = generate(500, 1);
        assert_eq!(a, generate(500, 1));
        assert_ne!(a, generate(500, 2));
        let entities: std::collections::HashSet<u32> = a.iter().map(|l| l.entity).collect();
        assert!(
            entities.len() < a.len() * 8 / 10,
            "{} entities",
            entities.len()
        );
    }
}
