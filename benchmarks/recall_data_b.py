"""Hand-written recall set, part two: users raj, emily, diego, yuki, kwame.

Every memory and question below is written out by hand (see make_recall_set.py for the format).
Memory lines: ``key | created_at | topics | text``.
Question lines: ``kind | answer keys | question [| asked_at]``.
"""

# ruff: noqa: E501 - one memory or question per line reads better than wrapped data

from __future__ import annotations

USERS_B: list[dict[str, str]] = [
    {
        "user_id": "raj",
        "asked_at": "2025-01-18T06:10:00",
        "memories": """
job | 2023-01-03 | work | Raj is the co-founder and CTO of a logistics software startup in London
seed | 2023-04-12 | work, finance | Raj's startup closed a 2 million pound seed round
series_a | 2024-09-30 | work, finance | Raj's startup failed to raise its Series A and is cutting costs
cofounder | 2023-01-03 | work | Raj's co-founder and CEO is his university friend Ben
hiring | 2023-06-14 | work | Raj is hiring two backend engineers who know Go
layoffs | 2024-10-14 | work | Raj had to lay off four people from his team
wife | 2023-01-03 | family | Raj's wife Priya is a GP in Croydon
twins | 2023-01-03 | family | Raj and Priya have twin daughters, Anika and Maya, aged four
nursery | 2023-03-06 | family, schedule | Raj drops the twins at nursery at 8am on weekdays
reception | 2024-09-04 | family, school | The twins started reception at St Mary's primary school
parents | 2023-02-11 | family | Raj's parents live in Leicester and visit every second month
father_stroke | 2024-02-19 | family, health | Raj's father had a minor stroke and is in rehab
marathon | 2023-04-23 | sport, events | Raj ran the London Marathon in 3 hours 48 minutes
marathon2 | 2024-04-21 | sport, events | Raj ran the London Marathon again but had to walk the last 5 miles with cramp
early_runs | 2023-01-15 | sport, schedule | Raj runs at 5:30am before the kids wake up
no_beef | 2023-01-03 | food, diet, religion | Raj doesn't eat beef, but eats chicken and fish
coffee | 2023-01-20 | food, drinks | Raj is a coffee snob who grinds his own beans for a V60
cricket | 2023-05-29 | sport | Raj supports the England cricket team and plays in a Sunday league
isa | 2023-03-27 | finance | Raj invests in low-cost index funds through a stocks and shares ISA
crypto | 2023-08-08 | finance | Raj lost money on crypto in 2022 and won't touch it again
house | 2023-01-03 | home | Raj lives in a Victorian terrace in Clapham
loft | 2023-07-17 | home | Raj is renovating the loft into a home office
loft_done | 2024-01-08 | home, work | Raj's loft conversion is finished and he works from there
contact | 2023-01-03 | contact | Raj prefers Slack for work and WhatsApp for family, and hates voicemails
deep_work | 2023-01-03 | schedule, work | Raj blocks out Friday afternoons for deep work with no meetings
gujarat | 2023-12-20 | travel, family | Raj took the family to Gujarat for a cousin's wedding
rotterdam | 2024-03-11 | travel, work | Raj went to a logistics trade show in Rotterdam
half_term | 2024-12-05 | travel, plans, family | Raj is planning a half-term trip to Center Parcs with the twins
chol1 | 2023-10-10 | health, doctor | Raj's cholesterol came back high at a work health check
chol2 | 2024-08-20 | health, doctor | Raj's cholesterol dropped after six months of statins
insomnia | 2024-10-28 | health | Raj has insomnia from stress about the company
stack | 2023-02-07 | tech, work | Raj's startup runs on Go microservices on Google Cloud
keyboard | 2023-09-19 | tech | Raj uses a split mechanical keyboard because of wrist pain
wrist | 2023-09-12 | health | Raj has RSI in his right wrist
books | 2023-06-01 | books | Raj reads business biographies and is currently on Shoe Dog
music | 2023-06-24 | music | Raj listens to Bollywood classics and old Bhangra when he runs
gujarati | 2023-01-03 | languages, family | Raj speaks Gujarati at home with his parents
no_car | 2023-01-03 | transport | Raj doesn't own a car and uses Zipcar when needed
brompton | 2023-05-02 | transport | Raj cycles to the office in Shoreditch on a Brompton
diwali | 2023-11-12 | religion, family, events | Raj hosts a Diwali dinner for twenty relatives every year
priya_late | 2023-03-06 | family, schedule | Priya works late at the surgery on Tuesdays and Thursdays
anniversary | 2023-01-03 | family, personal | Raj and Priya's wedding anniversary is on 14 February
birthday | 2023-01-03 | personal | Raj's birthday is on 2 October
twins_bday | 2023-01-03 | family, personal | The twins' birthday is on 11 July
egg_allergy | 2023-05-15 | family, health | Anika is allergic to eggs
incubator | 2023-11-27 | work, community | Raj mentors founders at a university incubator once a month
podcast | 2024-06-18 | work, media | Raj was a guest on a startup podcast about logistics
pension_pause | 2024-11-18 | finance | Raj has paused his pension contributions to lower his salary costs
wine | 2023-08-26 | drinks | Raj drinks red wine only at weekends
strength | 2024-05-08 | sport | Raj added strength training twice a week after the marathon
cousin | 2023-12-01 | family | Raj's cousin Dev is getting married in Ahmedabad
tax_return | 2024-02-28 | finance | Raj's accountant reminded him that his self-assessment tax return is due by January
""",
        "questions": """
paraphrase | job | What's my role at the company?
paraphrase | no_beef | Is a burger okay for me?
paraphrase | wife | What's my spouse's occupation?
paraphrase | twins | How old are my children?
paraphrase | parents | Where are my mum and dad based?
paraphrase | marathon | What's my personal best over 42 km?
paraphrase | coffee | How do I make my morning brew?
paraphrase | isa | Where do I put my savings?
paraphrase | crypto | Should I buy some Bitcoin?
paraphrase | deep_work | When am I unavailable for calls each week?
paraphrase | brompton | How do I get to work?
paraphrase | wrist | Why do my hands hurt when I type?
paraphrase | egg_allergy | Which foods must my kid avoid?
lexical | seed | How much was our seed round?
lexical | nursery | When do I drop the twins at nursery?
lexical | marathon2 | What happened at the London Marathon when I had cramp?
lexical | podcast | Which podcast was I a guest on?
lexical | tax_return | What did my accountant remind me about?
lexical | cousin | Where is my cousin Dev getting married?
date | series_a | What happened with fundraising in autumn 2024?
date | chol1 | What did the health check say about my cholesterol in October 2023?
date | loft | What was going on with the house in July 2023?
multi | priya_late, nursery | Which evenings am I alone with the girls, and when do I drop them off?
multi | no_beef, egg_allergy | Planning a family dinner, what is off the menu for me and for Anika?
multi | marathon, marathon2 | How did my two marathons compare?
""",
    },
    {
        "user_id": "emily",
        "asked_at": "2025-01-19T15:00:00",
        "memories": """
retired | 2023-01-08 | work | Emily retired after 35 years as a school librarian in Burlington, Vermont
widow | 2023-01-08 | family | Emily's husband Frank passed away in 2020
daughter | 2023-01-08 | family | Emily's daughter Susan lives in Albany with her husband and two kids
son | 2023-01-08 | family | Emily's son Michael is a lawyer in Boston
grandkids | 2023-02-12 | family | Emily's grandchildren Lily and Jack are 10 and 7
birding | 2023-03-18 | hobbies | Emily goes birdwatching at the Intervale every Saturday morning
tanager | 2024-05-11 | hobbies | Emily spotted a scarlet tanager for the first time
knitting | 2023-01-22 | hobbies, family | Emily knits sweaters for her grandchildren
knitting_circle | 2023-09-13 | hobbies, schedule, community | Emily goes to a knitting circle at the library on Wednesday afternoons
arthritis | 2023-01-30 | health | Emily has arthritis in her hands
arthritis_med | 2023-06-07 | health, doctor | Emily's rheumatologist started her on a new anti-inflammatory
arthritis_worse | 2024-02-27 | health, doctor | Emily's hand arthritis got worse and she had cortisone injections
contact | 2023-01-08 | contact | Emily prefers phone calls and finds texting hard with her arthritis
email | 2023-01-08 | contact, tech | Emily checks email on her iPad but often misses messages
storage | 2023-04-04 | tech | Emily's iPad keeps running out of storage because of photos
ipad_new | 2024-06-20 | tech | Emily got a new iPad for her birthday from her kids
facetime | 2023-04-16 | tech, family | Emily video-calls her grandchildren on FaceTime every Sunday evening
birthday | 2023-01-08 | personal | Emily's birthday is on 18 June
low_sodium | 2023-01-08 | food, health | Emily is on a low-sodium diet for her heart
afib | 2023-01-08 | health | Emily has atrial fibrillation and takes a blood thinner
cardio1 | 2023-11-14 | health, doctor | Emily's cardiologist said her heart rhythm was stable
cardio2 | 2024-10-29 | health, doctor | Emily's cardiologist adjusted her blood thinner dose after an irregular reading
maple | 2023-03-03 | food | Emily loves maple syrup on everything
pies | 2023-10-25 | food, hobbies, community | Emily bakes apple pies for the church bake sale every October
church | 2023-01-08 | religion, community, schedule | Emily attends the Methodist church on Sundays
whiskers | 2023-01-08 | pets | Emily has an old tabby cat named Whiskers
whiskers_died | 2024-03-20 | pets | Emily's cat Whiskers died at 18
pepper | 2024-07-08 | pets | Emily adopted a senior cat named Pepper from the shelter
books | 2023-01-25 | books, hobbies | Emily reads a lot of historical fiction
book_club | 2023-05-02 | books, community, schedule | Emily runs a book club at the senior center on the second Tuesday of the month
income | 2023-01-08 | finance | Emily lives on her pension and social security
scam | 2023-08-15 | finance, tech | Emily nearly fell for a phone scam pretending to be her bank
house | 2023-01-08 | home | Emily lives alone in the house she and Frank bought in 1982
shoveling | 2023-12-19 | home, schedule | A neighbor's teenager shovels Emily's driveway in winter
downsizing | 2024-09-02 | home, plans, family | Emily is thinking about selling the house and moving closer to Susan
driving | 2023-01-08 | transport | Emily still drives but avoids driving at night
cataract1 | 2024-01-16 | health | Emily had cataract surgery on her left eye
cataract2 | 2024-04-10 | health | Emily had cataract surgery on her right eye
cabin | 2023-07-12 | travel, family | Emily spent a week at Susan's lake cabin in the Adirondacks
nova_scotia | 2024-08-14 | travel, community | Emily went on a bus tour of Nova Scotia with her church group
cruise | 2024-12-03 | travel, plans, finance | Emily wants to take a river cruise in Europe but worries about the cost
garden | 2023-05-20 | home, hobbies | Emily grows peonies and hostas in her front garden
literacy | 2023-02-06 | community | Emily volunteers at the public library's literacy program
music | 2023-03-25 | music | Emily loves Joni Mitchell and classical piano music
jeopardy | 2023-11-01 | tv, schedule | Emily watches Jeopardy every evening at 7:30
hearing | 2023-09-26 | health | Emily got hearing aids but finds them uncomfortable
walks | 2023-04-28 | sport, health, friends | Emily walks two miles around the neighborhood every morning with her friend Doris
doris | 2023-04-28 | friends | Emily's best friend Doris lives across the street
doris_hip | 2024-11-11 | friends, health | Doris broke her hip, so Emily has been walking alone
tea | 2023-01-15 | drinks | Emily drinks Earl Grey tea with honey in the afternoon
frank_anniv | 2023-01-08 | family, personal | Emily's wedding anniversary with Frank was 12 September
expecting | 2024-05-27 | family | Michael and his wife are expecting their first baby in the fall
owen | 2024-10-19 | family | Emily's son Michael had a baby boy named Owen
""",
        "questions": """
paraphrase | contact | How should my family reach me?
paraphrase | birding | What do I do at dawn on weekends?
paraphrase | arthritis | Why do my fingers ache?
paraphrase | low_sodium | Can I have the salty soup?
paraphrase | afib | Am I on any anticoagulants?
paraphrase | maple | What sweet topping do I pour on pancakes?
paraphrase | church | Where do I worship?
paraphrase | books | What kind of novels do I enjoy?
paraphrase | income | What's my income?
paraphrase | driving | Is it okay for me to get behind the wheel after dark?
paraphrase | jeopardy | What quiz show do I never miss?
paraphrase | hearing | Why don't I like wearing my ear devices?
paraphrase | doris | Who is my closest neighbour and pal?
lexical | tanager | Which bird did I spot for the first time?
lexical | knitting_circle | When is the knitting circle at the library?
lexical | whiskers_died | What happened to my cat Whiskers?
lexical | nova_scotia | Where did I go on a bus tour with my church group?
lexical | owen | What is the name of Michael's baby boy?
lexical | book_club | When is my book club at the senior center?
date | cataract2 | Which eye was operated on in spring 2024?
date | cardio1 | What did the cardiologist say in November 2023?
date | doris_hip | What happened to Doris last Monday? | 2024-11-14T10:00:00
date | cabin | Where did I travel in summer 2023?
multi | grandkids, owen | How many grandchildren do I have now?
multi | cataract1, cataract2 | Have both of my eyes had cataract surgery?
multi | afib, arthritis | What should I bring up with a new GP about my heart and my hands?
""",
    },
    {
        "user_id": "diego",
        "asked_at": "2025-01-20T23:40:00",
        "memories": """
job | 2023-01-11 | work | Diego is a sous-chef at a Tex-Mex restaurant in downtown Austin
hours | 2023-01-11 | work, schedule | Diego works dinner service from 2pm to midnight, Tuesday through Saturday
days_off | 2023-01-11 | schedule | Diego's days off are Sunday and Monday
hometown | 2023-01-11 | family, home | Diego grew up in Mexico City and moved to Austin in 2019
mother | 2023-02-05 | family, schedule | Diego calls his mother in Mexico City every Sunday
girlfriend | 2023-01-11 | relationships | Diego's girlfriend Ana is a veterinary technician
proposal | 2024-02-14 | relationships | Diego proposed to Ana on Valentine's Day and she said yes
wedding_plan | 2024-08-03 | relationships, plans | Diego and Ana are planning a wedding in Oaxaca for next October
chispa | 2023-03-09 | pets | Diego and Ana have a rescue pit bull named Chispa
obedience | 2023-09-18 | pets | Chispa is in obedience classes because she pulls on the leash
motorcycle | 2023-01-20 | transport | Diego rides a 2015 Honda motorcycle to work
crash | 2024-04-15 | transport, health | Diego slid on gravel on his motorcycle and bruised his ribs
surfing | 2023-06-10 | hobbies, sport | Diego surfs in Port Aransas when he can get a long weekend
mole | 2023-01-11 | food, family | Diego loves his grandmother's mole poblano
cilantro | 2023-02-27 | food, work | Diego thinks cilantro is overused in Tex-Mex cooking
taco_trucks | 2023-04-02 | food | Diego rarely cooks at home on his days off and prefers taco trucks
dream | 2023-01-11 | work, career, plans | Diego dreams of opening his own Oaxacan restaurant
savings | 2023-05-30 | finance, plans | Diego is saving 500 dollars a month toward his own restaurant
green_card | 2023-03-29 | admin, legal | Diego has a green card and plans to apply for citizenship in 2025
taxes | 2024-03-12 | finance | Diego files his taxes with TurboTax and usually gets a refund
credit_card | 2023-10-09 | finance | Diego is paying down a 6,000 dollar credit card balance
burn | 2023-07-22 | health, work | Diego burned his forearm on a grill and it needed a dressing for two weeks
cut | 2024-06-27 | health, work | Diego cut his thumb badly while breaking down a fish and needed stitches
back | 2023-11-15 | health | Diego has lower back pain from standing 10 hours a day
insurance | 2023-11-20 | health, finance | Diego's restaurant doesn't offer health insurance so he buys a marketplace plan
contact | 2023-01-11 | contact | Diego prefers voice notes on WhatsApp and rarely reads emails
no_calls | 2023-01-11 | contact, schedule | Diego can't answer his phone during dinner service
music | 2023-03-15 | music, work | Diego listens to cumbia and Café Tacvba in the kitchen
soccer | 2023-01-29 | sport | Diego supports Pumas UNAM and Austin FC
indoor_league | 2023-08-14 | sport, schedule | Diego plays in a Monday night indoor soccer league
tattoo | 2023-12-02 | personal | Diego got a tattoo of a chili pepper on his forearm
bilingual | 2023-01-11 | languages | Diego is bilingual in Spanish and English
knives | 2024-01-10 | work, hobbies | Diego collects Japanese kitchen knives
cook_off | 2024-09-21 | work, events | Diego won second place in a local barbecue cook-off
promotion | 2024-11-04 | work, career | Diego was promoted to head chef at the restaurant
marco | 2023-06-22 | work | Diego's head chef Marco is strict but has taught him a lot
marco_left | 2024-10-21 | work | Marco left the restaurant to open a place in Houston
apartment | 2023-01-11 | home, relationships | Diego and Ana rent a one-bedroom apartment in East Austin
rent_up | 2024-05-01 | home, finance | Diego's landlord raised the rent by 200 dollars
cafe_de_olla | 2023-02-18 | drinks | Diego drinks café de olla made with cinnamon and piloncillo
lager | 2023-05-06 | drinks | Diego prefers Mexican lagers like Modelo
bedtime | 2023-07-05 | health, schedule | Diego goes to bed around 2am after his shifts
xmas_home | 2023-12-22 | travel, family | Diego went home to Mexico City for Christmas
tokyo | 2024-01-28 | travel | Diego went to Tokyo for two weeks to eat his way through the city
brother | 2023-02-05 | family | Diego's younger brother Luis studies architecture at UNAM
luis_visit | 2024-07-10 | family, travel | Luis visited Diego in Austin for the summer
phone | 2023-09-02 | tech | Diego uses a Samsung phone and keeps recipes in Google Keep
instagram | 2024-03-30 | tech, work | Diego posts his plating photos on Instagram and has 3,000 followers
ana_hours | 2023-03-09 | relationships, schedule | Ana works early shifts at the animal hospital, from 7am to 3pm
gym | 2024-02-01 | sport, health | Diego started going to the gym on Monday mornings to help his back
habanero | 2023-01-11 | food | Diego eats habanero salsa with almost every meal
birthday | 2023-01-11 | personal | Diego's birthday is on 2 November
""",
        "questions": """
paraphrase | hours | What hours am I at the restaurant?
paraphrase | days_off | When am I free for a barbecue?
paraphrase | hometown | Where am I originally from?
paraphrase | girlfriend | What does my fiancée do for a living?
paraphrase | motorcycle | How do I get to my job?
paraphrase | mole | Which sauce reminds me of my abuela?
paraphrase | dream | What's my big professional ambition?
paraphrase | contact | How should you send me messages?
paraphrase | soccer | Which football clubs do I cheer for?
paraphrase | tattoo | Do I have any ink?
paraphrase | lager | What do I order at the bar?
paraphrase | bedtime | When do I usually fall asleep?
lexical | obedience | What are the obedience classes for Chispa about?
lexical | crash | How did I bruise my ribs on the motorcycle?
lexical | surfing | Where do I surf on a long weekend?
lexical | cook_off | What place did I get in the barbecue cook-off?
lexical | rent_up | How much did the landlord raise the rent?
lexical | marco_left | Where did Marco open his new place?
date | burn | How did I hurt myself in the kitchen in July 2023?
date | promotion | What happened at work two weeks ago? | 2024-11-18T15:30:00
date | proposal | What happened with Ana on 2024-02-14?
multi | days_off, ana_hours | Which days do Ana and I both have free evenings?
multi | marco, marco_left | Who was head chef before me and where did he go?
multi | savings, credit_card | How much money am I putting aside and what do I still owe?
""",
    },
    {
        "user_id": "yuki",
        "asked_at": "2025-01-21T12:00:00",
        "memories": """
job | 2023-01-09 | work | Yuki is a senior accountant at a mid-size firm in Toronto
tax_season | 2023-01-09 | work, schedule | Yuki works 60-hour weeks from February to April during tax season
cpa | 2023-01-09 | work, career | Yuki became a CPA in 2010
partner_track | 2024-06-10 | work, career | Yuki was told she is on track to make partner in two years
husband | 2023-01-09 | family | Yuki's husband Kenji is a high school music teacher
daughter | 2023-01-09 | family | Yuki's daughter Hana is 14 and plays competitive volleyball
provincials | 2024-03-23 | family, sport, events | Hana's volleyball team won the provincial championship
grade9 | 2024-09-03 | family, school | Hana started grade 9 at a French immersion high school
violin | 2023-01-15 | music, hobbies | Yuki plays violin in a community orchestra
recital | 2023-05-20 | music, events | Yuki played a Bach partita solo at the orchestra's spring concert
cats | 2023-01-09 | pets | Yuki has two cats, Sushi and Tofu
tofu_vet | 2023-08-08 | pets, vet | Tofu was diagnosed with diabetes and needs insulin shots twice a day
sushi_vet | 2024-08-15 | pets, vet | Sushi had a urinary blockage and spent two nights at the emergency vet
celiac | 2023-01-09 | food, health, allergies | Yuki has celiac disease and must eat gluten-free
soy_sauce | 2023-11-03 | health, food | Yuki got sick after eating soy sauce that contained wheat
sapporo | 2023-07-05 | travel, family | Yuki visits her parents in Sapporo every July
sapporo2 | 2024-07-12 | travel, family | Yuki's trip to Sapporo was extended because her father had a fall
parents | 2023-01-09 | family | Yuki's parents are in their late seventies and live in Sapporo
father_fall | 2024-07-10 | family, health | Yuki's father broke his wrist in a fall
contact | 2023-01-09 | contact | Yuki prefers email and wants meeting invites with an agenda
after_7 | 2023-01-09 | contact, schedule | Yuki doesn't check work messages after 7pm
go_train | 2023-01-09 | transport | Yuki takes the GO train from Oakville to Union Station
crv | 2023-03-14 | transport | Yuki drives a Honda CR-V on weekends
tfsa | 2023-04-28 | finance | Yuki maxes out her TFSA and RRSP every year
resp | 2023-04-28 | finance, family | Yuki contributes to an RESP for Hana's university
house | 2023-01-09 | home | Yuki lives in a detached house in Oakville
basement | 2024-04-25 | home | Yuki's basement flooded after heavy rain
basement_fix | 2024-05-20 | home, finance | Yuki paid 12,000 dollars to waterproof the basement
garden | 2023-05-27 | home, hobbies | Yuki grows Japanese vegetables like shiso and daikon
genmaicha | 2023-01-09 | drinks | Yuki drinks genmaicha in the afternoon
sake | 2023-09-16 | drinks | Yuki enjoys sake from small Japanese breweries
books | 2023-02-11 | books | Yuki reads Japanese crime novels in the original
languages | 2023-01-09 | languages | Yuki speaks Japanese, English and basic French
french | 2024-09-10 | languages, education, schedule | Yuki takes French evening classes on Tuesdays to help Hana with homework
yoga | 2023-02-20 | sport, health | Yuki does hot yoga on Saturday mornings
migraine | 2023-10-11 | health | Yuki gets migraines in tax season when she doesn't sleep enough
glasses | 2024-02-05 | health | Yuki's optometrist said she needs reading glasses
mammo2 | 2024-10-16 | health, doctor | Yuki's mammogram came back clear
mammo1 | 2023-10-18 | health, doctor | Yuki was called back for a second mammogram that turned out fine
software | 2023-06-06 | tech, work | Yuki uses CaseWare and Excel and wants to learn Power BI
power_bi | 2024-01-22 | tech, work, education | Yuki completed a Power BI course
laptop | 2023-06-06 | tech | Yuki's personal laptop is a MacBook Air
tax_clinic | 2023-03-30 | community, finance | Yuki volunteers to do free tax returns for seniors in March
kenji_band | 2023-11-18 | family, music, schedule | Kenji plays saxophone in a jazz band on Friday nights
anniversary | 2023-01-09 | family, personal | Yuki and Kenji's wedding anniversary is on 5 May
birthday | 2023-01-09 | personal | Yuki's birthday is on 21 January
bee_sting | 2023-06-15 | family, health | Hana is allergic to bee stings and carries an EpiPen
blue_mountain | 2024-02-18 | sport, travel | Yuki took the family skiing at Blue Mountain for Family Day
sushi_place | 2023-08-26 | food | Yuki's favourite restaurant is a gluten-free sushi place on Queen Street
ramen | 2024-11-30 | food | Yuki found a ramen shop in Toronto that makes rice noodles
mei | 2023-04-09 | friends | Yuki's oldest friend Mei lives in Vancouver
mei_visit | 2024-10-05 | friends, travel | Yuki flew to Vancouver for Mei's 45th birthday
""",
        "questions": """
paraphrase | tax_season | When is my busiest time of year?
paraphrase | husband | What does my spouse do?
paraphrase | daughter | What's my kid's sport?
paraphrase | violin | Which instrument do I perform on?
paraphrase | celiac | Is regular bread okay for me?
paraphrase | contact | What's the best way to set up time with me?
paraphrase | go_train | How do I get downtown on workdays?
paraphrase | resp | What am I doing to fund my kid's college?
paraphrase | garden | What herbs and roots do I cultivate?
paraphrase | genmaicha | What hot beverage do I sip after lunch?
paraphrase | yoga | How do I stay flexible?
paraphrase | mei | Who is my longest-standing pal?
paraphrase | tofu_vet | Which of my animals requires injections?
lexical | provincials | Which team won the provincial volleyball championship?
lexical | recital | Which Bach piece did I play at the spring concert?
lexical | soy_sauce | What happened after I ate soy sauce with wheat?
lexical | basement_fix | How much did it cost to waterproof the basement?
lexical | power_bi | Did I finish the Power BI course?
lexical | ramen | Where did I find ramen with rice noodles?
date | basement | What happened to my basement in April 2024?
date | tofu_vet | What happened with my cat at the vet in August 2023?
date | mammo2 | What did my mammogram show in October 2024?
multi | sapporo2, father_fall | Why was my last trip to see my parents longer than usual?
multi | tofu_vet, sushi_vet | What medical problems have my two cats had?
multi | kenji_band, french | Which evenings are taken by Kenji's gigs and my French class?
""",
    },
    {
        "user_id": "kwame",
        "asked_at": "2025-01-22T18:30:00",
        "memories": """
job | 2023-01-04 | work | Kwame is a freelance photographer in Amsterdam who shoots weddings and products
origin | 2023-01-04 | family, home | Kwame grew up in Accra, Ghana, and moved to the Netherlands in 2015
husband | 2023-01-04 | relationships | Kwame's husband Pieter works as an air traffic controller at Schiphol
pieter_shifts | 2023-02-13 | relationships, schedule | Pieter works rotating shifts, including weekend nights
camera | 2023-01-18 | work, tech | Kwame shoots with a Sony A7 IV and mostly prime lenses
camera_stolen | 2024-03-04 | work, tech | Kwame's camera bag was stolen from his car in Rotterdam
camera_new | 2024-03-19 | work, tech, finance | Kwame bought a new Sony A7R V with the insurance payout
client | 2023-04-11 | work | Kwame's biggest client is a Dutch furniture brand
invoice | 2023-09-27 | work, finance | Kwame is chasing an unpaid invoice of 3,200 euros from a wedding client
invoice_paid | 2023-11-10 | work, finance | The wedding client finally paid Kwame's overdue invoice
vat | 2023-04-03 | finance, admin | Kwame files his Dutch VAT return every quarter
accountant | 2024-01-29 | finance | Kwame hired an accountant to handle his income tax
exhibition | 2024-06-07 | work, events | Kwame had his first solo exhibition at a gallery in De Pijp
portraits | 2024-02-08 | work, plans | Kwame is preparing portraits of Ghanaian diaspora families for an exhibition
contact | 2023-01-04 | contact | Kwame prefers to be contacted by email for bookings and Instagram DMs for casual chat
unknown_numbers | 2023-01-04 | contact | Kwame doesn't pick up calls from unknown numbers
jollof | 2023-01-04 | food | Kwame loves jollof rice and argues that Ghanaian jollof beats Nigerian
lactose | 2023-03-07 | food, health | Kwame is lactose intolerant
light_soup | 2023-06-18 | food, hobbies, friends | Kwame cooks light soup and fufu for friends on Sundays
ajax | 2023-01-04 | sport | Kwame supports Ajax and the Ghana national team
cycling | 2023-01-04 | transport | Kwame cycles around Amsterdam and only uses the car for shoots
van | 2023-05-15 | transport, work | Kwame drives a Volkswagen Caddy van for carrying gear
sister | 2023-01-04 | family | Kwame's sister Ama is a doctor in Kumasi
mother | 2023-01-04 | family | Kwame's mother lives in Accra and runs a fabric shop
mother_visit | 2024-04-15 | family, travel | Kwame's mother visited Amsterdam for the first time to see the tulips
xmas_accra | 2023-12-18 | travel, family | Kwame spent Christmas in Accra with his family
ama_wedding | 2024-12-14 | travel, family | Kwame flew to Accra for his sister Ama's wedding
asthma | 2023-01-04 | health | Kwame has mild asthma and uses an inhaler when he runs
vondelpark | 2023-08-06 | sport, schedule | Kwame runs in the Vondelpark three evenings a week
dam_tot_dam | 2023-09-17 | sport, events | Kwame ran the Dam tot Damloop, 16 kilometres, in 1 hour 24 minutes
root_canal | 2024-05-08 | health | Kwame needs a root canal and is nervous about it
root_canal2 | 2024-05-29 | health | Kwame's root canal went fine
colour_blind | 2023-10-30 | health, work | Kwame is colour-blind with red and green and relies on calibrated monitors
music | 2023-02-25 | music | Kwame listens to highlife and Afrobeats
dj | 2024-08-24 | music, hobbies | Kwame started DJing Afrobeats nights at a bar in Amsterdam-Noord
languages | 2023-01-04 | languages | Kwame speaks English, Twi and conversational Dutch
civic_exam | 2023-07-20 | languages, admin | Kwame passed his Dutch civic integration exam
citizenship | 2024-09-16 | admin | Kwame applied for Dutch citizenship
home | 2023-01-04 | home, relationships | Kwame and Pieter live in a canal-side apartment in the Jordaan
studio | 2023-10-02 | home, work | Kwame turned the spare room into a small photo studio
boris | 2023-01-04 | pets | Kwame and Pieter have a Maine Coon cat called Boris
boris_sick | 2024-10-09 | pets, vet | Boris had a bladder infection and is on antibiotics
in_laws | 2023-05-28 | relationships, family | Pieter's parents live in Groningen and host Sunday lunch once a month
married | 2023-01-04 | relationships, personal | Kwame and Pieter got married on 7 August 2020
birthday | 2023-01-04 | personal | Kwame's birthday is on 25 March
lightroom | 2023-05-02 | work, tech | Kwame edits photos in Lightroom on a calibrated iMac
backup | 2024-03-05 | tech, work | Kwame backs up his photos to two drives and Backblaze
flat_white | 2023-02-02 | drinks | Kwame drinks flat whites made with oat milk
no_alcohol | 2023-07-01 | drinks | Kwame doesn't drink alcohol
workshop | 2024-11-25 | work, community | Kwame teaches a free photography workshop for refugee teenagers
late_nights | 2023-03-30 | health, schedule | Kwame edits late and usually goes to bed after 1am
wedding_season | 2024-04-30 | work, schedule | Kwame is booked for 14 weddings between May and September
""",
        "questions": """
paraphrase | husband | What does my spouse do?
paraphrase | client | Which customer brings in the most money?
paraphrase | contact | How should a prospective customer reach me?
paraphrase | lactose | Can I have a milkshake?
paraphrase | ajax | Which clubs do I cheer for?
paraphrase | cycling | How do I get about town?
paraphrase | sister | What does my sibling do for a living?
paraphrase | asthma | Why do I need a puffer when jogging?
paraphrase | colour_blind | Which hues can't I distinguish?
paraphrase | dj | What beats do I spin?
paraphrase | no_alcohol | Should I order a beer for myself?
paraphrase | late_nights | When do I turn in for the night?
lexical | camera_stolen | Where was my camera bag stolen?
lexical | camera_new | Which camera did I buy with the insurance payout?
lexical | exhibition | Where did I have my first solo exhibition?
lexical | dam_tot_dam | How fast did I run the Dam tot Damloop?
lexical | civic_exam | Did I pass the Dutch civic integration exam?
lexical | boris_sick | What is Boris on antibiotics for?
date | invoice | What was going on with the wedding client's invoice in September 2023?
date | root_canal2 | How did my root canal go three weeks ago? | 2024-06-19T12:00:00
date | ama_wedding | Why did I fly to Accra in December 2024?
multi | camera_stolen, camera_new | Why do I have a new camera?
multi | mother, sister | What do my mum and sister do back in Ghana?
multi | wedding_season, pieter_shifts | If I shoot weddings all summer and Pieter works weekend nights, when do we meet?
""",
    },
]
