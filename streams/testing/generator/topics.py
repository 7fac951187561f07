"""What users ask each app about, and the drift topic that appears when traffic shifts.

Slots in braces come from :data:`streams.testing.generator.vocabulary.SLOTS`. Every answer may be
paired with every prompt of its intent, so answers only use facts the prompts imply.
"""

from __future__ import annotations

from streams.testing.generator.templates import Intent, Topic

# --- support-bot (an electronics shop with subscriptions) ---------------------------------

ORDER_STATUS = Topic("order-status", (
    Intent(
        prompts=(
            "Where is my order {order_id}? I ordered the {product} on {date} and the tracking "
            "page still says {tracking_status}.",
            "My {product} was supposed to arrive {days} days ago. It is order {order_id} and "
            "it shipped with {carrier}. Can you check what is going on?",
            "Can you give me an update on order {order_id}? It has been stuck on "
            "{tracking_status} since {date}.",
            "Has my {product} shipped yet? Order {order_id}, placed on {date}.",
        ),
        answers=(
            "I checked order {order_id} for your {product}. It was handed to {carrier} and is "
            "currently {tracking_status}. Tracking usually updates within 24 to 48 hours; if "
            "nothing changes by then, reply here and I will open a trace with the carrier.",
            "Thanks for your patience. Order {order_id} has left our warehouse and {carrier} "
            "lists it as {tracking_status}. I have flagged it for our logistics team, and you "
            "will get an e-mail as soon as the status changes.",
        ),
    ),
    Intent(
        prompts=(
            "I need to change the delivery address for order {order_id} to my new place in "
            "{city}. Is it too late?",
            "I moved last week. Can you ship my {product} from order {order_id} to my new "
            "address in {city} instead?",
        ),
        answers=(
            "I can help with that. I have asked {carrier} to redirect order {order_id} to your "
            "new address in {city}. You will receive a confirmation once the carrier accepts "
            "the change, usually within one business day.",
            "Order {order_id} has not been delivered yet, so the address can still be updated. "
            "I have sent the {city} address to {carrier}; please check your inbox for the "
            "confirmation link.",
        ),
    ),
    Intent(
        prompts=(
            "The package for order {order_id} arrived today, but the {product} was not in the "
            "box. Only the packing slip was there.",
            "I received an empty box instead of my {product}. The order number is {order_id}.",
        ),
        answers=(
            "I'm sorry the {product} was missing from order {order_id}. I have opened a "
            "missing-item claim and we will send a replacement by express shipping at no cost. "
            "You will get the new tracking number within one business day.",
        ),
    ),
))

RETURNS = Topic("returns-refunds", (
    Intent(
        prompts=(
            "I want to return the {product} I bought on {date} because it {defect}. How do I "
            "start a return?",
            "The {product} from order {order_id} {defect}. Can I get a replacement or my money "
            "back?",
            "My new {product} {defect}. What are my options?",
        ),
        answers=(
            "Sorry to hear the {product} {defect}. You are within the 30-day window, so you can "
            "start a return under Orders > Return item. Print the prepaid label, drop the parcel "
            "at any {carrier} point, and we will send a replacement or a refund once it is "
            "scanned.",
            "That should not happen with a new {product}. I have created a return for you and "
            "e-mailed a prepaid {carrier} label. Choose replacement or refund on the return "
            "page; replacements ship the same day the return is scanned.",
        ),
    ),
    Intent(
        prompts=(
            "I returned my {product} {days} days ago and I still have not received the refund "
            "of {amount}. When will it show up?",
            "Where is my refund for order {order_id}? Your warehouse received the return on "
            "{date}.",
        ),
        answers=(
            "Your return for order {order_id} was received and the refund of {amount} was "
            "issued to your {payment_method}. Banks usually take 3 to 5 business days to post "
            "it, so it should appear on your statement soon.",
            "I can see the refund of {amount} for order {order_id} was processed today. It goes "
            "back to your {payment_method}, and depending on your bank it can take up to a week "
            "to show.",
        ),
    ),
    Intent(
        prompts=(
            "Can I still return a {product} that I opened but never used? I bought it on "
            "{date}.",
            "Is there a restocking fee if I return the {product}? The box is open but "
            "everything is inside.",
        ),
        answers=(
            "Yes. Opened items in like-new condition can be returned within 30 days of delivery "
            "without a restocking fee. Please include all accessories and the original box of "
            "the {product}, and start the return from your order page.",
        ),
    ),
))

ACCOUNT = Topic("account-access", (
    Intent(
        prompts=(
            "I can't log into my account because {login[issue]}. What should I do?",
            "I'm locked out. I tried to sign in on my {device} and {login[issue]}.",
            "Every time I try to sign in, {login[issue]}. I have tried three times now.",
        ),
        answers=(
            "Sorry you're having trouble signing in. Please {login[fix]}. If that still does "
            "not work, reply with the e-mail address on your "
            "account and I will verify your identity manually.",
            "Let's get you back in. The quickest fix is to {login[fix]}. If you are using the "
            "app on your {device}, make sure it is updated to the latest version as well.",
        ),
    ),
    Intent(
        prompts=(
            "How do I change the e-mail address on my account? I no longer have access to my "
            "{email_kind} address.",
            "My account is still registered to my {email_kind} e-mail, which I can't use any "
            "more. Can you move it to a new address?",
        ),
        answers=(
            "You can change it under Settings > Account > E-mail. Because you can no longer "
            "reach the {email_kind} address, we will confirm the change with a code sent to "
            "the phone number on your account instead.",
        ),
    ),
    Intent(
        prompts=(
            "I got a new {device} and the codes from my authenticator app don't work anymore. "
            "How do I reset two-factor authentication?",
            "How do I move two-factor authentication to my new {device}? I still have my old "
            "phone.",
        ),
        answers=(
            "Authenticator entries don't move to a new {device} automatically. Sign in with one "
            "of your backup codes, go to Security > Two-factor authentication, and scan the new "
            "QR code. Without backup codes, I can start an identity check for you.",
        ),
    ),
    Intent(
        prompts=(
            "Please delete my account and all my data. I no longer use the {plan} plan.",
            "How can I close my account? I want my personal data removed as well.",
        ),
        answers=(
            "I'm sorry to see you go. I have submitted a deletion request: your {plan} "
            "subscription ends today and all personal data will be removed within 30 days, as "
            "described in our privacy policy. You will get a confirmation e-mail.",
        ),
    ),
))

BILLING = Topic("billing", (
    Intent(
        prompts=(
            "I was charged {amount} twice for my {plan} subscription this month. Can you "
            "refund the duplicate payment?",
            "My {payment_method} statement shows two charges of {amount} on {date}, but I only "
            "have one {plan} plan.",
        ),
        answers=(
            "You're right, I can see two charges of {amount} on your {payment_method}. One of "
            "them was a duplicate, and I have refunded it. It can take a few business days to "
            "disappear from your statement.",
        ),
    ),
    Intent(
        prompts=(
            "How do I switch from the {plan} plan to {plan2}? I don't need all the features "
            "anymore.",
            "Can I move my subscription from {plan} to {plan2} in the middle of the month?",
        ),
        answers=(
            "You can switch from {plan} to {plan2} under Settings > Subscription > Change plan. "
            "The change takes effect at the start of your next billing cycle, so you keep your "
            "current features until then.",
        ),
    ),
    Intent(
        prompts=(
            "My {payment_method} expired and now the payment for my {plan} subscription "
            "failed. How do I update it without losing my data?",
            "The renewal of my {plan} plan was declined. I want to pay with my {payment_method} "
            "instead.",
        ),
        answers=(
            "No data is lost when a payment fails; we retry for 14 days. Go to Settings > "
            "Billing, add your {payment_method}, and the open invoice for {amount} will be "
            "charged automatically.",
        ),
    ),
    Intent(
        prompts=(
            "Can you send me an invoice for the {amount} payment on {date}? I need it for my "
            "reimbursement claim.",
            "Where can I download the invoices for my {plan} plan? Accounting needs the one "
            "from {date}.",
        ),
        answers=(
            "Of course. I have e-mailed the invoice for the {amount} payment on {date} to the "
            "address on your account. You can also download all past invoices under Settings "
            "> Billing > Invoices.",
        ),
    ),
))

SETUP = Topic("product-setup", (
    Intent(
        prompts=(
            "How do I {setup[task]} on the {product}? The manual is not clear about it.",
            "I'm trying to {setup[task]} on my {product} using my {device}, but it doesn't "
            "work.",
            "What is the right way to {setup[task]}? I have the {product}.",
        ),
        answers=(
            "To {setup[task]}, {setup[steps]}. If the {product} still does not respond, hold "
            "the power button for 10 seconds to restart it and try again.",
            "Here's how: {setup[steps]}. Keep your {device} close to the {product} while you do "
            "this, and make sure the companion app is up to date.",
        ),
    ),
))

# --- code-assistant -------------------------------------------------------------------------

DEBUG = Topic("debug-error", (
    Intent(
        prompts=(
            "I'm getting `{err[error]}` in my {err[language]} code when I {action}. How do I "
            "fix it?",
            "Why does my {err[language]} app fail with {err[error]}? It only happens when I "
            "{action}.",
            "{err[error]} keeps showing up in our CI logs when we {action}. Any idea what causes "
            "this in {err[language]}?",
        ),
        answers=(
            "This error usually means {err[cause]}. To fix it, {err[fix]}. Since it happens when "
            "you {action}, add a log line right before that step to confirm which value is "
            "involved.",
            "`{err[error]}` is raised because {err[cause]}. The usual fix is to {err[fix]}. "
            "After the change, {action} again to confirm the error is gone.",
        ),
    ),
))

WRITE_CODE = Topic("write-function", (
    Intent(
        prompts=(
            "Write a {language} function that {task[task]}.",
            "Can you write me a {language} function called {task[name]} that {task[task]}? "
            "Please add a short docstring.",
            "I need a small {language} helper that {task[task]}. It should handle empty input "
            "gracefully.",
        ),
        answers=(
            "Here is an approach in {language}: {task[approach]}. I named the function "
            "`{task[name]}`; it runs in linear time and returns an empty result for empty "
            "input. I also added two unit tests, one for the normal case and one edge case.",
            "Sure. The cleanest way to write `{task[name]}` in {language} is to "
            "{task[approach]}. Below is the implementation with type hints and a docstring, "
            "followed by an example of how to call it.",
        ),
    ),
))

REFACTOR = Topic("refactor-review", (
    Intent(
        prompts=(
            "Can you refactor this {language} class to use {pattern}? It has grown to {loc} "
            "lines and is hard to test.",
            "What's the best way to restructure a {framework} project so that it uses "
            "{pattern}?",
            "Please review my {language} module for readability. I think I should use {pattern} "
            "but I'm not sure where to start.",
        ),
        answers=(
            "Using {pattern} here is a good idea. Start by moving side effects to the edges, "
            "then extract the core logic into small functions you can test in isolation. I "
            "would introduce it one module at a time while the existing tests stay green.",
            "Here's a plan: find the pieces that change together, introduce {pattern} at that "
            "boundary, and keep the public interface unchanged so callers do not break. Add "
            "tests before the refactor so you can show the behaviour stays the same.",
        ),
    ),
))

SQL = Topic("sql-query", (
    Intent(
        prompts=(
            "Write a {dialect} query that returns {sql[ask]}. The main table is called {table}.",
            "How would I get {sql[ask]} in {dialect}? Our {table} table has about {rows} "
            "million rows.",
            "I need a query for {sql[ask]}. We use {dialect}.",
        ),
        answers=(
            "In {dialect} you can {sql[hint]}. On a large table, make sure there is an index on "
            "the columns you filter and join on, otherwise the query scans everything.",
            "Here's a query for {dialect}. The idea is to {sql[hint]}. I aliased the {table} "
            "table as t to keep it readable; run EXPLAIN first to check the plan.",
        ),
    ),
))

GIT = Topic("git-help", (
    Intent(
        prompts=(
            "How do I {git[ask]}? I use git every day but always forget the right syntax for this.",
            "What's the safest way to {git[ask]}? I'm working in a shared repository with "
            "{team_size} other developers.",
            "Git question: I want to {git[ask]}. What command should I use?",
        ),
        answers=(
            "Use `{git[cmd]}`. Note that {git[note]}. On a shared repository, avoid rewriting "
            "history that others have already pulled.",
            "You can do it with `{git[cmd]}`; {git[note]}. If you are unsure, create a backup "
            "branch first so you can always go back.",
        ),
    ),
))

# --- research-summarizer ---------------------------------------------------------------------

LITERATURE = Topic("literature-summary", (
    Intent(
        prompts=(
            "Summarize the key findings of recent research on {study[subject]} in {n_points} "
            "bullet points for {audience}.",
            "I have to brief {audience} on {study[subject]} tomorrow. What are the main findings "
            "and the biggest caveats?",
            "Can you give me a short literature overview on {study[subject]}? Focus on studies "
            "published since {year}.",
        ),
        answers=(
            "Here are the key points on {study[subject]}. The main finding is that "
            "{study[finding]}. The most important caveat is that {study[caveat]}. For "
            "{audience}, lead with the finding and present the caveat as the reason more data is "
            "needed.",
            "Research on {study[subject]} broadly agrees that {study[finding]}. However, "
            "{study[caveat]}. Recent studies reinforce this picture, although sample sizes "
            "remain modest.",
        ),
    ),
))

DOCUMENTS = Topic("document-summary", (
    Intent(
        prompts=(
            "Summarize this {doc_kind} from {company} in one paragraph: revenue grew {pct} "
            "percent in {quarter}, churn fell slightly, and the team plans to expand into {city} "
            "next year.",
            "Give me the three main takeaways from the {quarter} {doc_kind} of {company}. "
            "Revenue is up {pct} percent and they are opening an office in {city}.",
        ),
        answers=(
            "Summary: {company} grew revenue by {pct} percent in {quarter} while churn edged "
            "down. The main strategic move is the planned expansion into {city}, which will need "
            "new hires and a local partner. Next step: agree a budget for the {city} launch.",
        ),
    ),
    Intent(
        prompts=(
            "Turn these {doc_kind} into a short summary with action items: the {project} "
            "launch slipped by {weeks} weeks, the budget is {pct} percent over plan, and "
            "{company} wants a new timeline.",
            "Extract the decisions and open questions from the {doc_kind} of the {project} team "
            "at {company}. The launch moved by {weeks} weeks.",
        ),
        answers=(
            "Summary: the {project} launch is {weeks} weeks late and over budget, and {company} "
            "has asked for a revised timeline. Action items: the project lead drafts the new "
            "schedule, finance reviews the overrun, and the team reports back next week.",
        ),
    ),
))

POLICY = Topic("policy-brief", (
    Intent(
        prompts=(
            "Give me a one-page brief on {policy} in {city}: what changed, who is affected, and "
            "what the early evidence shows.",
            "What are the main arguments for and against {policy}? Use {city} as the example.",
            "Write a neutral summary of how {policy} has worked out in {city} so far, for "
            "{audience}.",
        ),
        answers=(
            "{city} introduced {policy} to tackle a problem that had grown over several years. "
            "Supporters point to early data showing measurable improvements, while critics "
            "argue the costs fall unevenly on some residents. The evidence covers only the "
            "first {months} months, so a full evaluation is still pending.",
            "Arguments for {policy} in {city} focus on long-term public benefits and early "
            "positive indicators. Arguments against focus on costs for local businesses and "
            "fairness. After {months} months the data is promising but not yet conclusive.",
        ),
    ),
))

EXPLAIN = Topic("explain-concept", (
    Intent(
        prompts=(
            "Explain {concept[concept]} to {audience} in plain language, with one everyday "
            "example.",
            "What is {concept[concept]}, and why does it matter when reading research?",
        ),
        answers=(
            "In plain terms, {concept[gist]}; that is {concept[concept]}. An everyday example is "
            "{concept[example]}. The practical lesson is to ask what the data might be missing "
            "before drawing a conclusion.",
        ),
    ),
))

# --- drift topic: questions about tax on crypto trading -------------------------------------

CRYPTO_TAX = Topic("crypto-tax", (
    Intent(
        prompts=(
            "If I swapped {coin} for {coin2} on {exchange} last year, is that a taxable event "
            "in {country[name]}?",
            "Do I owe tax when I trade {coin} for {coin2}, even if I never cashed out to "
            "{country[fiat]}?",
        ),
        answers=(
            "In {country[name]}, swapping {coin} for {coin2} is generally treated as a disposal "
            "of {coin}, so you realise a gain or loss based on its value in {country[fiat]} at "
            "the time of the swap. Keep the date, amounts and fees of each trade; a tax adviser "
            "can confirm how it applies to you.",
        ),
    ),
    Intent(
        prompts=(
            "How do I report {income} from {coin} on my {tax_year} tax return in "
            "{country[name]}?",
            "I earned about {crypto_amount} in {income} on {exchange} in {tax_year}. Is that "
            "taxed as income or as capital gains?",
        ),
        answers=(
            "Generally, {income} from {coin} is taxed as income in {country[name]} at its "
            "market value when you receive it. That value becomes your cost basis, so a later "
            "sale produces a capital gain or loss. Export your {tax_year} reward history from "
            "{exchange} to support the figures.",
        ),
    ),
    Intent(
        prompts=(
            "I lost {crypto_amount} trading {coin} futures on {exchange} in {tax_year}. Can I "
            "deduct that loss from my salary?",
            "Can I use my {coin} trading losses to offset gains from selling shares in "
            "{country[name]}?",
        ),
        answers=(
            "Realised losses on {coin} can usually offset capital gains, and some countries let "
            "a limited amount reduce other income. In {country[name]} derivatives such as "
            "futures may follow different rules than spot trades, so check how {exchange} "
            "reports them and keep your {tax_year} trade history.",
        ),
    ),
    Intent(
        prompts=(
            "{exchange} only gives me a CSV of my {coin} trades. How do I calculate my cost "
            "basis for {tax_year} when I bought at many different prices?",
            "Which cost basis method should I use for {coin}, FIFO or average cost, when I file "
            "in {country[name]}?",
            "Which form do I use to declare crypto gains from {coin} in {country[name]} for "
            "{tax_year}?",
        ),
        answers=(
            "In {country[name]} you report disposals of {coin} on {country[form]}. Import the "
            "{exchange} CSV into a crypto tax tool, match each sale to its purchase lots using "
            "the method your tax office accepts, and keep the report with your {tax_year} "
            "records.",
        ),
    ),
    Intent(
        prompts=(
            "Do I have to report moving {coin} from {exchange} to my own hardware wallet? "
            "Nothing was sold.",
            "Is sending {coin} between my own wallets a taxable event in {country[name]}?",
        ),
        answers=(
            "Moving {coin} between wallets you own is usually not a taxable event, because "
            "nothing was sold. Keep the transaction IDs anyway: you need them to show that the "
            "cost basis carries over when you eventually sell.",
        ),
    ),
))

#: The topic that drifted traffic is drawn from (``GeneratorConfig.drift_at``).
DRIFT_TOPIC = CRYPTO_TAX
