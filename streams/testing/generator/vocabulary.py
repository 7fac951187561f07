"""Slot vocabularies that the topic templates draw from.

All names of products, companies and projects are invented. Records (dicts) keep values that
belong together, so an answer can name the cause and the fix of the error the user quoted.
"""

from __future__ import annotations

import random

from streams.testing.generator.templates import Slot

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _date(rng: random.Random) -> str:
    return f"{_MONTHS[int(rng.random() * 12)]} {rng.randint(1, 28)}"


def _between(low: int, high: int):
    """Slot of a whole number drawn uniformly from ``low`` to ``high`` inclusive."""

    def draw(rng: random.Random) -> str:
        return str(rng.randint(low, high))

    return draw


def _order_id(rng: random.Random) -> str:
    return f"#{rng.randint(100_000, 999_999)}"


def _amount(rng: random.Random) -> str:
    return f"${rng.randint(4, 480)}.{rng.randint(0, 99):02d}"


def _crypto_amount(rng: random.Random) -> str:
    return f"${rng.randint(2, 95) * 100 + rng.randint(0, 99):,}"


# --- support-bot --------------------------------------------------------------------------

PRODUCTS = (
    "Aurora X2 wireless earbuds", "Nimbus 14 laptop", "Nimbus 16 Pro laptop",
    "Pulse 3 smartwatch", "Vista 27-inch 4K monitor", "Halo mesh Wi-Fi router",
    "Rally mechanical keyboard", "Orbit wireless mouse", "Lumen smart bulb starter kit",
    "Cirrus robot vacuum", "Tempo fitness tracker", "Quartz 10-inch tablet",
    "Atlas 1TB portable SSD", "Beacon video doorbell", "Sonic 300 soundbar",
    "Vertex gaming headset", "Nova phone case", "Zephyr 65W USB-C charger",
    "Harbor docking station", "Summit espresso machine", "Glide electric toothbrush",
    "Ember space heater", "Frost mini fridge", "Canvas e-reader", "Prism action camera",
    "Trail dashcam", "Ripple Bluetooth speaker", "Terra smart thermostat", "Kite camera drone",
    "Memento digital photo frame",
)  # fmt: skip

CARRIERS = ("UPS", "FedEx", "DHL", "USPS", "Royal Mail", "DPD", "GLS")

TRACKING_STATUSES = (
    "label created", "in transit", "out for delivery", "held at the depot",
    "awaiting pickup by the carrier", "delayed due to weather", "held at customs",
    "delivery attempted",
)  # fmt: skip

DEFECTS = (
    "stopped charging after a week", "arrived with a cracked screen",
    "keeps disconnecting from Bluetooth", "makes a loud buzzing noise", "does not turn on at all",
    "came without the power cable", "gets very hot after ten minutes of use",
    "arrived in the wrong color", "has a dead pixel in the corner",
    "drains its battery overnight", "rattles when I pick it up", "has a scratched case",
)  # fmt: skip

CITIES = (
    "Berlin", "Toronto", "Melbourne", "Singapore", "Lisbon", "Austin", "Osaka", "Nairobi",
    "Copenhagen", "Denver", "Manchester", "Lyon", "Seattle", "Dublin", "Vancouver",
    "Rotterdam", "Auckland", "Montreal", "Barcelona", "Chicago",
)  # fmt: skip

DEVICES = (
    "iPhone", "Android phone", "Windows laptop", "MacBook", "iPad", "smart TV", "Chromebook",
    "Pixel phone", "Galaxy tablet",
)  # fmt: skip

PLANS = ("Basic", "Plus", "Premium", "Family", "Business", "Student")

PAYMENT_METHODS = (
    "Visa card", "Mastercard", "PayPal account", "Apple Pay wallet", "debit card",
    "American Express card", "store gift card",
)  # fmt: skip

EMAIL_KINDS = ("work", "university", "old personal", "company", "school")

LOGIN_PROBLEMS = (
    {"issue": "the password reset link says it has expired",
     "fix": "request a new link and open it within 15 minutes, since links expire quickly"},
    {"issue": "the verification code never arrives by SMS",
     "fix": "check that your phone number is current and choose the e-mail code option instead"},
    {"issue": "it says my account is locked after too many attempts",
     "fix": "wait 30 minutes for the lock to clear and then reset your password"},
    {"issue": "the login page just keeps reloading",
     "fix": "clear the cookies for our site or try a private browser window"},
    {"issue": "it says no account exists for my e-mail address",
     "fix": "try the other addresses you might have used, as accounts are tied to one address"},
    {"issue": "the app logs me out every few minutes",
     "fix": "update the app to the latest version and turn off battery optimisation for it"},
    {"issue": "the sign in with Google button shows an error",
     "fix": "sign in with your e-mail and password once, then link Google again in Settings"},
)  # fmt: skip

SETUP_TASKS = (
    {"task": "connect to a Wi-Fi network",
     "steps": "open the companion app, tap Add device and pick your 2.4 GHz network"},
    {"task": "update the firmware",
     "steps": "keep it plugged in, open Settings > About > Update in the app and wait"},
    {"task": "do a factory reset",
     "steps": "hold the power and volume-down buttons together for 15 seconds"},
    {"task": "pair with a new phone",
     "steps": "remove it from the old phone first, then hold the pairing button for 5 seconds"},
    {"task": "change the display language",
     "steps": "go to Settings > System > Language and choose from the list"},
    {"task": "turn on automatic updates",
     "steps": "open the app, select the device and enable Auto-update under Maintenance"},
    {"task": "set up a daily schedule",
     "steps": "open Routines in the app, add a new routine and pick the days and times"},
    {"task": "share access with another person",
     "steps": "go to Home > Members in the app and send an invite to their account"},
)  # fmt: skip

# --- code-assistant -------------------------------------------------------------------------

ERRORS = (
    {"language": "Python", "error": "TypeError: 'NoneType' object is not subscriptable",
     "cause": "a function returned None and the code indexes into the result",
     "fix": "check the return value first or make the function return an empty list"},
    {"language": "Python", "error": "ModuleNotFoundError: No module named 'requests'",
     "cause": "the package is not installed for the interpreter that runs the code",
     "fix": "install it into the active virtual environment and check which python you run"},
    {"language": "Python", "error": "KeyError: 'user_id'",
     "cause": "some records in the dictionary do not contain that key",
     "fix": "use dict.get with a default or validate the records when you load them"},
    {"language": "Python", "error": "RecursionError: maximum recursion depth exceeded",
     "cause": "the recursive function never reaches its base case for some inputs",
     "fix": "add the missing base case or rewrite the recursion as a loop"},
    {"language": "Python", "error": "ValueError: could not convert string to float: 'N/A'",
     "cause": "some rows contain placeholder text instead of numbers",
     "fix": "treat those placeholders as missing values when you parse the file"},
    {"language": "JavaScript",
     "error": "TypeError: Cannot read properties of undefined (reading 'map')",
     "cause": "the array has not loaded yet when the component first renders",
     "fix": "initialise the state with an empty array or use optional chaining"},
    {"language": "JavaScript", "error": "Unhandled promise rejection: TypeError: fetch failed",
     "cause": "a rejected promise has no catch handler",
     "fix": "wrap the await in try/catch and handle network failures explicitly"},
    {"language": "TypeScript",
     "error": "Type 'string | undefined' is not assignable to type 'string'",
     "cause": "the compiler cannot prove the value is always defined",
     "fix": "narrow the type with a check or provide a default value"},
    {"language": "Go",
     "error": "panic: runtime error: invalid memory address or nil pointer dereference",
     "cause": "a pointer is used before it has been initialised",
     "fix": "check for nil before using it or build the struct through a constructor"},
    {"language": "Go", "error": "fatal error: all goroutines are asleep - deadlock!",
     "cause": "a goroutine sends on an unbuffered channel that nobody reads",
     "fix": "read from the channel in another goroutine or give the channel a buffer"},
    {"language": "Rust",
     "error": "error[E0502]: cannot borrow `items` as mutable because it is also borrowed",
     "cause": "an immutable reference is still alive while you try to mutate the vector",
     "fix": "shorten the scope of the first borrow or clone the value you need"},
    {"language": "Rust", "error": "error[E0382]: borrow of moved value: `config`",
     "cause": "the value was moved into a function or closure earlier",
     "fix": "pass a reference instead or clone the value before the move"},
    {"language": "Java", "error": "java.lang.NullPointerException",
     "cause": "a method was called on a reference that is null",
     "fix": "initialise the field in the constructor or wrap the value in an Optional"},
    {"language": "Java", "error": "java.util.ConcurrentModificationException",
     "cause": "the list is modified while a loop iterates over it",
     "fix": "remove items through the iterator or collect the changes and apply them afterwards"},
    {"language": "C#", "error": "System.InvalidOperationException: Sequence contains no elements",
     "cause": "First() is called on an empty collection",
     "fix": "use FirstOrDefault() and handle the empty case"},
    {"language": "Python", "error": "sqlite3.OperationalError: database is locked",
     "cause": "two writers use the same SQLite file at the same time",
     "fix": "serialise the writes or move to a database server"},
)  # fmt: skip

ACTIONS = (
    "run the unit tests", "start the dev server", "deploy to staging", "call the payments API",
    "parse the config file", "load the CSV export", "process the second batch of jobs",
    "open the settings page", "run the nightly import", "build the Docker image",
)  # fmt: skip

LANGUAGES = ("Python", "TypeScript", "Go", "Rust", "Java", "Kotlin", "C#", "Ruby", "JavaScript")

FRAMEWORKS = (
    "Django", "FastAPI", "React", "Spring Boot", "Express", "Flask", "Next.js", "Rails",
    "ASP.NET Core", "Vue",
)  # fmt: skip

CODING_TASKS = (
    {"task": "removes duplicate items from a list while keeping the original order",
     "name": "dedupe", "approach": "walk the list once and keep a set of the items already seen"},
    {"task": "checks whether a string is a valid IPv4 address", "name": "is_valid_ipv4",
     "approach": "split on dots, require four parts and check each part is a number up to 255"},
    {"task": "merges two sorted arrays into one sorted array", "name": "merge_sorted",
     "approach": "advance two indices and always take the smaller of the two head elements"},
    {"task": "retries an HTTP request with exponential backoff", "name": "retry_with_backoff",
     "approach": "loop over attempts, double the wait after each failure and add random jitter"},
    {"task": "parses a duration such as 1h30m into seconds", "name": "parse_duration",
     "approach": "match number and unit pairs with a regular expression and sum them up"},
    {"task": "groups a list of records by a field and counts them", "name": "count_by",
     "approach": "iterate once and increment a counter keyed by the field value"},
    {"task": "flattens a nested list of any depth", "name": "flatten",
     "approach": "recurse into items that are lists and yield every other item as it is"},
    {"task": "converts a CSV file into a list of JSON objects", "name": "csv_to_json",
     "approach": "read the header row for the keys and zip every following row with it"},
    {"task": "computes a moving average over a sliding window", "name": "moving_average",
     "approach": "keep a running sum, add each new value and subtract the one leaving the window"},
    {"task": "finds the longest common prefix of a list of strings",
     "name": "longest_common_prefix",
     "approach": "sort the strings and compare only the first one with the last one"},
    {"task": "splits an iterable into batches of a fixed size", "name": "batched",
     "approach": "collect items into a buffer and yield it whenever it reaches the batch size"},
    {"task": "limits calls to a function to a given number per second", "name": "rate_limited",
     "approach": "use a token bucket that refills at a fixed rate and waits when it is empty"},
    {"task": "turns an article title into a URL-friendly slug", "name": "slugify",
     "approach": "lowercase the text, replace runs of other characters with a hyphen and trim it"},
    {"task": "reads a large log file and returns the ten most frequent error codes",
     "name": "top_error_codes",
     "approach": "stream the file line by line and keep counts in a dictionary of codes"},
)  # fmt: skip

PATTERNS = (
    "dependency injection", "dataclasses instead of plain dictionaries",
    "async/await instead of callbacks", "a context manager for the connection",
    "early returns instead of nested ifs", "the strategy pattern", "a repository layer",
    "small pure functions", "an event queue", "immutable value objects",
)  # fmt: skip

SQL_TASKS = (
    {"ask": "the top 10 customers by total order value in the last 90 days",
     "hint": "join orders to customers, filter the last 90 days, group by customer and order "
             "by the summed total with a limit of 10"},
    {"ask": "the number of daily active users for each of the last 30 days",
     "hint": "group by the event date and count distinct user ids over the last 30 days"},
    {"ask": "all products that have never been ordered",
     "hint": "left join products to order items and keep the rows where the order item is null"},
    {"ask": "the month-over-month revenue growth",
     "hint": "sum revenue per month in a CTE and compare each month with the LAG of the "
             "previous one"},
    {"ask": "duplicate user accounts that share the same e-mail address",
     "hint": "group by the lowercased address and keep groups with a count above one"},
    {"ask": "the median session length per country",
     "hint": "use percentile_cont(0.5) ordered by duration and group by country"},
    {"ask": "the second highest salary in each department",
     "hint": "rank salaries with DENSE_RANK partitioned by department and keep rank two"},
    {"ask": "users who signed up but never made a purchase",
     "hint": "select users with NOT EXISTS on a subquery over the payments table"},
    {"ask": "a running total of payments per customer",
     "hint": "use SUM(amount) OVER a window partitioned by customer and ordered by date"},
)  # fmt: skip

SQL_DIALECTS = ("PostgreSQL", "MySQL", "BigQuery", "Snowflake", "SQLite", "ClickHouse")

TABLES = ("orders", "users", "events", "payments", "sessions", "subscriptions", "invoices")

GIT_TASKS = (
    {"ask": "undo my last commit and keep the changes in my working tree",
     "cmd": "git reset --soft HEAD~1",
     "note": "the changes stay staged, so you can edit them and commit again"},
    {"ask": "squash my last three commits into one", "cmd": "git rebase -i HEAD~3",
     "note": "mark the second and third commits as squash in the editor that opens"},
    {"ask": "delete a branch on the remote", "cmd": "git push origin --delete feature/login",
     "note": "other clones keep their copy until they run git fetch --prune"},
    {"ask": "see who last changed each line of a file", "cmd": "git blame -w path/to/file",
     "note": "the -w flag ignores changes that only touched whitespace"},
    {"ask": "move my uncommitted changes to a new branch", "cmd": "git switch -c new-branch",
     "note": "uncommitted changes come along to the new branch untouched"},
    {"ask": "find which commit introduced a bug", "cmd": "git bisect start",
     "note": "you mark commits good or bad and git halves the range until it finds the culprit"},
    {"ask": "untrack a config file but keep the local copy", "cmd": "git rm --cached path/to/file",
     "note": "add the file to .gitignore so it is not added again by accident"},
    {"ask": "rename the current branch", "cmd": "git branch -m new-name",
     "note": "push the new name and remove the old one on the remote if it was shared"},
    {"ask": "recover a branch I deleted by accident", "cmd": "git reflog",
     "note": "find the last commit of the branch there and create a branch pointing at it"},
    {"ask": "rebase my local work when I pull instead of merging", "cmd": "git pull --rebase",
     "note": "set pull.rebase to true in your config to make this the default"},
)  # fmt: skip

# --- research-summarizer --------------------------------------------------------------------

STUDIES = (
    {"subject": "microplastics in freshwater lakes",
     "finding": "concentrations are highest near cities and wastewater plants",
     "caveat": "sampling methods differ between studies, so absolute numbers are hard to compare"},
    {"subject": "remote work and team productivity",
     "finding": "individual output stays flat or rises slightly while cross-team collaboration "
                "declines",
     "caveat": "most studies rely on self-reported productivity"},
    {"subject": "recycling lithium-ion batteries",
     "finding": "hydrometallurgical processes recover over 90 percent of the cobalt and nickel",
     "caveat": "costs at industrial scale are still uncertain"},
    {"subject": "urban heat islands and tree cover",
     "finding": "neighbourhoods with more tree canopy are several degrees cooler on summer "
                "afternoons",
     "caveat": "the effect varies with humidity and street layout"},
    {"subject": "hallucinations in large language models",
     "finding": "grounding answers in retrieved documents reduces unsupported claims",
     "caveat": "benchmarks measure different things and saturate quickly"},
    {"subject": "soil carbon in no-till farming",
     "finding": "no-till fields store more carbon in the top layer of soil",
     "caveat": "deeper layers sometimes lose carbon, which offsets part of the gain"},
    {"subject": "coral reef recovery after bleaching",
     "finding": "reefs can recover within a decade when bleaching events are spaced far apart",
     "caveat": "the intervals between marine heatwaves are getting shorter"},
    {"subject": "four-day work week trials",
     "finding": "most companies kept output stable and reported less burnout",
     "caveat": "the firms chose to take part, so the results may not generalise"},
    {"subject": "perovskite solar cell stability",
     "finding": "new encapsulation methods extend lab lifetimes to several thousand hours",
     "caveat": "long-term outdoor field data is still scarce"},
    {"subject": "early reading programmes in primary schools",
     "finding": "structured phonics programmes produce the largest gains",
     "caveat": "gains fade without follow-up support in later grades"},
    {"subject": "ocean acidification and shellfish",
     "finding": "oyster and mussel larvae struggle to build shells in more acidic water",
     "caveat": "adult populations respond in more varied ways"},
    {"subject": "high-speed rail and regional economies",
     "finding": "connected cities see modest growth in business services",
     "caveat": "part of that growth moves from neighbouring regions rather than being new"},
    {"subject": "spaced repetition for language learning",
     "finding": "spreading reviews over days beats massed practice for long-term retention",
     "caveat": "most experiments test vocabulary rather than speaking skills"},
    {"subject": "rooftop gardens and stormwater runoff",
     "finding": "green roofs hold back a large share of rainfall during moderate storms",
     "caveat": "the benefit drops sharply once the soil layer is saturated"},
)  # fmt: skip

CONCEPTS = (
    {"concept": "survivorship bias",
     "gist": "looking only at the cases that passed a filter hides the ones that did not",
     "example": "judging old buildings as sturdy because the weak ones were torn down long ago"},
    {"concept": "regression to the mean",
     "gist": "extreme results tend to be followed by more ordinary ones",
     "example": "a sports team that has a record season and then does worse the next year"},
    {"concept": "a confidence interval",
     "gist": "it is a range of plausible values for a quantity, given the data we have",
     "example": "an opinion poll that reports 52 percent plus or minus three points"},
    {"concept": "the difference between correlation and causation",
     "gist": "two things moving together does not mean one of them causes the other",
     "example": "ice cream sales and sunburns rising together because both follow sunny weather"},
    {"concept": "statistical significance",
     "gist": "a result is unlikely to be pure chance if nothing were really going on",
     "example": "a coin that lands heads 70 times out of 100 throws"},
    {"concept": "selection bias",
     "gist": "the people or things in the sample differ from the group we care about",
     "example": "an online survey about internet use that only reaches people who are online"},
    {"concept": "Simpson's paradox",
     "gist": "a trend in every subgroup can reverse when the groups are combined",
     "example": "a hospital that looks worse overall because it treats the hardest cases"},
    {"concept": "effect size",
     "gist": "it tells you how large a difference is, not just whether it exists",
     "example": "a diet that is proven to work but only changes weight by a few grams"},
)  # fmt: skip

AUDIENCES = (
    "a non-technical executive", "first-year students", "our product team", "a city council",
    "the board", "new analysts on my team", "a general audience", "our investors",
)  # fmt: skip

COMPANIES = (
    "Northwind Logistics", "Bluefin Analytics", "Cobalt Robotics", "Greenleaf Foods",
    "Helios Energy", "Mariner Shipping", "Larkspur Media", "Granite Insurance",
    "Pinecrest Retail", "Aster Biolabs",
)  # fmt: skip

DOC_KINDS = (
    "meeting notes", "quarterly report", "board memo", "project update", "investor letter",
    "customer interview notes",
)  # fmt: skip

PROJECTS = ("Atlas", "Falcon", "Orion", "Mercury", "Juniper", "Tidewater", "Keystone", "Polaris")

POLICIES = (
    "congestion pricing", "rent control", "a ban on single-use plastic bags",
    "a smartphone ban in schools", "e-scooter parking rules", "heat pump subsidies",
    "free public transport", "a low-emission zone", "limits on short-term rentals",
    "a four-day week for city employees", "protected bike lanes",
)  # fmt: skip

# --- drift topic: crypto-trading tax -------------------------------------------------------

COINS = (
    "Bitcoin", "Ethereum", "Solana", "Cardano", "Dogecoin", "Polygon", "Avalanche", "XRP",
    "Litecoin", "Polkadot", "Chainlink",
)  # fmt: skip

EXCHANGES = ("Coinbase", "Binance", "Kraken", "Bitstamp", "Gemini", "Bybit", "Crypto.com")

TAX_COUNTRIES = (
    {"name": "the US", "fiat": "US dollars", "form": "Form 8949 and Schedule D"},
    {"name": "the UK", "fiat": "pounds", "form": "the capital gains pages of Self Assessment"},
    {"name": "Germany", "fiat": "euros", "form": "Anlage SO of your income tax return"},
    {"name": "Canada", "fiat": "Canadian dollars", "form": "Schedule 3"},
    {"name": "Australia", "fiat": "Australian dollars",
     "form": "the capital gains section of your tax return"},
    {"name": "France", "fiat": "euros", "form": "form 2086"},
    {"name": "Spain", "fiat": "euros", "form": "the savings section of your Renta declaration"},
)  # fmt: skip

CRYPTO_INCOME = (
    "staking rewards", "an airdrop", "liquidity mining rewards", "lending interest",
    "mining income", "validator rewards",
)  # fmt: skip

SLOTS: dict[str, Slot] = {
    # support-bot
    "product": PRODUCTS,
    "order_id": _order_id,
    "carrier": CARRIERS,
    "tracking_status": TRACKING_STATUSES,
    "date": _date,
    "days": _between(3, 14),
    "defect": DEFECTS,
    "city": CITIES,
    "device": DEVICES,
    "plan": PLANS,
    "amount": _amount,
    "payment_method": PAYMENT_METHODS,
    "email_kind": EMAIL_KINDS,
    "login": LOGIN_PROBLEMS,
    "setup": SETUP_TASKS,
    # code-assistant
    "err": ERRORS,
    "action": ACTIONS,
    "language": LANGUAGES,
    "framework": FRAMEWORKS,
    "task": CODING_TASKS,
    "pattern": PATTERNS,
    "loc": _between(180, 2400),
    "sql": SQL_TASKS,
    "dialect": SQL_DIALECTS,
    "table": TABLES,
    "rows": _between(2, 900),
    "git": GIT_TASKS,
    "team_size": _between(2, 14),
    # research-summarizer
    "study": STUDIES,
    "concept": CONCEPTS,
    "audience": AUDIENCES,
    "n_points": ("three", "four", "five", "six"),
    "year": _between(2015, 2022),
    "company": COMPANIES,
    "doc_kind": DOC_KINDS,
    "project": PROJECTS,
    "quarter": ("Q1", "Q2", "Q3", "Q4"),
    "pct": _between(2, 38),
    "weeks": _between(2, 9),
    "months": _between(3, 24),
    "policy": POLICIES,
    # drift topic
    "coin": COINS,
    "exchange": EXCHANGES,
    "country": TAX_COUNTRIES,
    "income": CRYPTO_INCOME,
    "tax_year": _between(2020, 2024),
    "crypto_amount": _crypto_amount,
}
