"""Hand-written recall set, part one: users maria, john, sarah, ahmed, lena.

Every memory and question below is written out by hand (see make_recall_set.py for the format).
Memory lines: ``key | created_at | topics | text``.
Question lines: ``kind | answer keys | question [| asked_at]``.
"""

# ruff: noqa: E501 - one memory or question per line reads better than wrapped data

from __future__ import annotations

USERS_A: list[dict[str, str]] = [
    {
        "user_id": "maria",
        "asked_at": "2025-01-13T09:15:00",
        "memories": """
diet | 2023-01-09 | food, diet | Maria has been vegetarian since university
peanut | 2023-01-09 | health, food, allergies | Maria is allergic to peanuts and carries an EpiPen
fish | 2023-02-02 | food, family | Maria's husband Tom loves grilled sardines but Maria won't cook fish at home
husband | 2023-01-12 | family | Maria is married to Tom, a firefighter
daughter | 2023-01-12 | family | Maria's daughter Inês is six years old and started primary school this year
daughter_allergy | 2023-04-18 | family, health | Maria's daughter Inês is allergic to cats
dog | 2023-02-20 | pets | Maria has a beagle named Pip
vet1 | 2023-05-11 | pets, vet | The vet told Maria that Pip needs to lose two kilos
vet2 | 2024-02-07 | pets, vet | Pip got his yearly vaccinations at the vet
vet3 | 2024-11-19 | pets, vet | The vet found a mild heart murmur in Pip and wants to recheck it in spring
job | 2023-01-09 | work | Maria works as a product designer at a fintech startup in Lisbon
job_tools | 2023-03-01 | work, tech | Maria does her design work in Figma on a 14-inch MacBook Pro
review1 | 2023-03-16 | work, career | Maria's annual review went well and her manager promised her a senior title
review2 | 2024-03-21 | work, career | Maria's annual review was tense because the senior title was postponed again
standup | 2023-06-05 | work, schedule | Maria has a team stand-up every weekday at 9:30
remote | 2023-09-12 | work, schedule | Maria works from home on Mondays and Fridays
contact | 2023-02-14 | contact | Maria prefers to be reached on WhatsApp rather than by email
no_calls | 2023-02-14 | contact, schedule | Maria doesn't take phone calls before 10am
running | 2023-04-02 | hobbies, sport | Maria runs along the river three mornings a week
halfmarathon | 2023-10-15 | sport, events | Maria finished the Lisbon half marathon in 2 hours 3 minutes
knee | 2024-01-22 | health, sport | Maria strained her left knee and her physio told her to stop running for six weeks
piano | 2023-09-01 | hobbies, music | Maria started piano lessons on Thursday evenings
piano2 | 2024-06-13 | hobbies, music, events | Maria played Satie's Gymnopédie at her first piano recital
books | 2023-05-30 | hobbies, books | Maria's favourite author is Elena Ferrante
bookclub | 2023-11-08 | hobbies, books, schedule | Maria hosts a book club on the first Sunday of each month
coffee | 2023-01-20 | food, drinks | Maria drinks her coffee black with no sugar
decaf | 2024-05-02 | health, drinks | Maria switched to decaf after 3pm because she was sleeping badly
sleep | 2024-04-28 | health | Maria has had trouble falling asleep since the spring
migraine | 2023-07-19 | health | Maria gets migraines when she skips meals
trip_japan | 2023-04-28 | travel | Maria spent two weeks travelling around Japan with Tom
trip_azores | 2024-08-05 | travel | Maria went hiking in the Azores with her sister Rita
trip_plan | 2024-12-02 | travel, plans, family | Maria is planning a family trip to Brazil to visit Tom's parents
sister | 2023-03-05 | family | Maria's sister Rita lives in Porto and works as a nurse
parents | 2023-06-20 | family, health | Maria's mother has early-stage Alzheimer's and lives with her father in Coimbra
father_visit | 2024-10-06 | family, schedule | Maria drives to Coimbra every other weekend to help her father
car | 2023-08-14 | transport | Maria drives a second-hand Renault Zoe electric car
commute | 2023-08-14 | transport, work | Maria takes the tram to the office when it rains
saving | 2023-10-01 | finance, home | Maria and Tom are saving for a deposit on a bigger flat
budget | 2024-01-05 | finance | Maria tracks the household budget in a shared Google Sheet
bank | 2024-07-09 | finance | Maria moved her savings to an online bank that pays 3% interest
phone | 2023-11-27 | tech | Maria uses an Android phone and dislikes Apple products except for her work laptop
languages | 2023-02-25 | languages | Maria speaks Portuguese, English and decent Italian
birthday | 2023-01-09 | personal | Maria's birthday is on 22 September
anniversary | 2023-01-12 | family, personal | Maria and Tom's wedding anniversary is on 3 June
flowers | 2023-06-03 | personal | Maria's favourite flowers are peonies
gift_idea | 2024-11-25 | personal, family | Maria wants to get Tom a good chef's knife for Christmas
plants | 2023-05-06 | home, hobbies | Maria keeps a small herb garden on her balcony
home | 2023-01-09 | home | Maria lives in a two-bedroom flat in Alvalade, Lisbon
cleaning | 2024-09-10 | home, schedule | Maria's cleaner comes on Wednesday mornings
music_taste | 2023-07-01 | music | Maria listens to fado and Brazilian bossa nova
concert | 2024-07-20 | music, events, family | Maria saw Mariza in concert at the Coliseu with her sister
tv | 2023-12-10 | hobbies, tv | Maria is rewatching The Office with Tom
dentist1 | 2023-09-20 | health, dentist | Maria's dentist filled a cavity in her lower molar
dentist2 | 2024-09-25 | health, dentist | Maria's dentist recommended a night guard because she grinds her teeth
school_run | 2024-09-16 | family, schedule | Inês's school ends at 3:30 and Maria picks her up on Tuesdays and Thursdays
""",
        "questions": """
paraphrase | diet | Should I order the steak?
paraphrase | peanut | Is satay sauce safe for me?
paraphrase | husband | What does my spouse do for a living?
paraphrase | daughter_allergy | Can we adopt a kitten?
paraphrase | standup | When is my daily sync with colleagues?
paraphrase | contact | How should you message me?
paraphrase | running | How do I keep fit?
paraphrase | piano | Which instrument am I learning?
paraphrase | migraine | What triggers my bad headaches?
paraphrase | gift_idea | Present ideas for my husband this December?
paraphrase | car | What kind of vehicle do I have?
lexical | vet1 | What did the vet say about Pip's weight?
lexical | job_tools | Which laptop do I use for my Figma design work?
lexical | bookclub | When is my book club?
lexical | halfmarathon | How did my half marathon go?
lexical | sister | Where does my sister Rita live?
lexical | dentist2 | What did the dentist recommend for my teeth grinding?
date | review1 | How did my annual review go in March 2023?
date | vet3 | What did the vet find two weeks ago? | 2024-12-03T19:00:00
date | dentist1 | What did the dentist do in autumn 2023?
multi | peanut, diet | I'm booking a Thai restaurant for Tom and me, what should the waiter know about my food?
multi | sister, father_visit | Can I fit a weekend in Porto around my visits to Coimbra?
multi | halfmarathon, knee | What should I tell a new physio about my running history?
""",
    },
    {
        "user_id": "john",
        "asked_at": "2025-01-14T20:30:00",
        "memories": """
job | 2023-01-16 | work | John teaches chemistry at a public high school in Denver
basketball | 2023-01-21 | hobbies, sport | John likes to play pickup basketball with friends on Saturday mornings
diabetes | 2023-02-03 | health | John has type 2 diabetes and manages it with metformin
a1c1 | 2023-05-12 | health, doctor | John's doctor said his blood sugar numbers improved after he cut out soda
a1c2 | 2024-05-17 | health, doctor | John's doctor raised his metformin dose because his blood sugar crept up again
wife | 2023-01-16 | family | John's wife Karen is an accountant who works long hours in tax season
sons | 2023-01-16 | family | John has two sons, Ethan who is 12 and Lucas who is 9
ethan_soccer | 2023-09-05 | family, sport, schedule | Ethan has soccer practice on Tuesday and Thursday evenings
lucas_reading | 2024-02-14 | family, school | Lucas's teacher said he is behind in reading and suggested a tutor
tutor | 2024-03-04 | family, school, finance | John hired a reading tutor for Lucas who comes on Wednesday evenings
camping1 | 2023-07-10 | travel, outdoors | John took the boys camping at Rocky Mountain National Park
camping2 | 2024-07-22 | travel, outdoors | John's camping trip to Moab was cut short by a thunderstorm
car | 2023-03-18 | transport | John drives a 2016 Subaru Outback
car_repair | 2024-10-08 | transport, finance | John's Subaru needed new brakes and the repair cost 900 dollars
mortgage | 2023-04-01 | finance, home | John and Karen refinanced their mortgage at a lower rate
pension | 2023-11-20 | finance | John contributes 8 percent of his salary to his teacher pension
side_income | 2024-06-01 | work, finance | John tutors chemistry online in the summer for extra income
contact | 2023-01-16 | contact | John prefers text messages during the school day because he can't answer calls while teaching
email | 2023-01-16 | contact, work | John checks his personal email only on Sunday nights
coffee | 2023-02-10 | food, drinks | John drinks two cups of coffee with oat milk every morning
food_fav | 2023-03-25 | food | John's favourite food is green chile enchiladas
bbq | 2023-06-17 | food, hobbies | John smokes brisket on his Traeger grill for family parties
no_alcohol | 2023-08-30 | health, drinks | John stopped drinking alcohol after his diabetes diagnosis
dog | 2023-04-22 | pets | John's family has a golden retriever called Biscuit
dog_surgery | 2024-08-13 | pets, vet | Biscuit had surgery to remove a benign lump from his leg
dog_walk | 2023-04-22 | pets, schedule | John walks Biscuit before school at 6am
music | 2023-05-05 | music | John is a big fan of classic rock, especially Tom Petty
guitar | 2024-01-09 | music, hobbies | John bought a used acoustic guitar and is teaching himself to play
podcasts | 2023-10-12 | hobbies | John listens to history podcasts on his commute
nuggets | 2023-01-30 | sport | John is a lifelong Denver Nuggets fan
nuggets_game | 2023-06-13 | sport, events | John watched the Nuggets win the NBA championship at a bar with his brother
brother | 2023-02-18 | family | John's brother Mike lives in Boulder and runs a bike shop
mom | 2023-07-30 | family, health | John's mother had a hip replacement and is recovering at his house
mom2 | 2023-10-02 | family | John's mother moved back to her own apartment in Colorado Springs
back_pain | 2024-04-03 | health | John has lower back pain from grading papers hunched over at his desk
standing_desk | 2024-04-20 | work, home | John ordered a standing desk for his home office
conference | 2024-11-07 | work, travel | John presented a lab safety workshop at a science teachers' conference in Phoenix
principal | 2024-09-03 | work | John's new principal wants every teacher to post grades weekly
lab | 2023-09-18 | work | John's school lab finally got new fume hoods
vacation | 2024-12-16 | travel, plans | John is taking the family skiing in Breckenridge over winter break
ski | 2023-01-28 | sport, hobbies | John snowboards but Karen prefers cross-country skiing
birthday | 2023-01-16 | personal | John's birthday is on 4 November
karen_bday | 2023-01-16 | family, personal | Karen's birthday is on 19 April
tech | 2023-05-20 | tech | John uses an iPhone and a Chromebook that the school gave him
password | 2024-02-26 | tech | John wants help setting up a password manager for the family
garden | 2023-05-14 | home, hobbies | John grows tomatoes and jalapeños in raised beds
house | 2023-01-16 | home | John lives in a three-bedroom house in the Park Hill neighborhood
roof | 2024-06-11 | home, finance | Hail damaged John's roof and insurance is covering the replacement
reading | 2023-12-28 | hobbies, books | John is reading the Dune series for the second time
snoring | 2024-01-25 | health, doctor | John's doctor suggested a sleep study because he snores loudly
sleep_apnea | 2024-03-12 | health | John was diagnosed with mild sleep apnea and now uses a CPAP machine
olympiad | 2023-10-21 | community, work | John coaches a middle school science olympiad team
weight | 2023-11-30 | health, sport | John lost 15 pounds since the spring by walking and cutting carbs
hours | 2023-08-21 | schedule, work | John's school day runs from 7:15 to 3:30
""",
        "questions": """
paraphrase | basketball | What do I do for fun on weekends?
paraphrase | diabetes | What condition am I on medication for?
paraphrase | wife | What's my spouse's profession?
paraphrase | sons | How old are my kids?
paraphrase | car | What kind of vehicle do I own?
paraphrase | contact | What's the best way to reach me while I'm at work?
paraphrase | coffee | What do I put in my brew at breakfast?
paraphrase | no_alcohol | Is wine okay for me at dinner?
paraphrase | music | What kind of tunes am I into?
paraphrase | back_pain | Why am I so stiff after marking homework?
paraphrase | sleep_apnea | What helps me breathe at night?
lexical | ethan_soccer | When is Ethan's soccer practice?
lexical | lucas_reading | What did Lucas's teacher say about his reading?
lexical | car_repair | How much did the Subaru brake repair cost?
lexical | dog_surgery | What surgery did Biscuit have?
lexical | brother | Where does my brother Mike live?
lexical | conference | Which conference did I present at in Phoenix?
date | a1c1 | What did my doctor say about my blood sugar in May 2023?
date | camping2 | Where did we go camping in summer 2024?
date | mom | What was happening with my mom on 2023-07-30?
multi | ethan_soccer, tutor | Which weekday evenings are taken by the boys' activities?
multi | karen_bday, ski | Karen's birthday is coming up, what does she like to do outdoors?
multi | diabetes, sleep_apnea | Which of my health conditions need daily treatment?
""",
    },
    {
        "user_id": "sarah",
        "asked_at": "2025-01-15T16:05:00",
        "memories": """
job | 2023-02-01 | work | Sarah works as an ICU nurse at Harborview Medical Center in Seattle
shifts | 2023-02-01 | work, schedule | Sarah works three 12-hour night shifts a week, usually Thursday to Saturday
contact | 2023-02-01 | contact | Sarah prefers email over phone calls
muted | 2023-02-06 | contact, schedule | Sarah sleeps during the day after night shifts and mutes her phone until 3pm
cat | 2023-02-10 | pets | Sarah has a grey cat named Mochi
cat_diet | 2023-08-02 | pets, vet | The vet put Mochi on a prescription kidney diet
cat_dental | 2024-06-18 | pets, vet | Mochi had two teeth pulled at the vet
climbing | 2023-03-11 | hobbies, sport | Sarah goes bouldering at a climbing gym in Fremont on her days off
climbing_trip | 2024-05-27 | travel, sport | Sarah climbed outdoors for the first time at Smith Rock in Oregon
cooking | 2023-03-20 | food, hobbies | Sarah loves cooking Korean food like kimchi jjigae from her grandmother's recipes
spicy | 2023-03-20 | food | Sarah likes her food very spicy
shellfish | 2023-04-04 | food, health, allergies | Sarah is allergic to shellfish
loans | 2023-04-15 | finance | Sarah is paying off about 40,000 dollars of student loans
loan_forgive | 2024-10-22 | finance | Sarah applied for public service loan forgiveness
budget | 2023-09-01 | finance | Sarah uses YNAB to budget and wants to stop eating out so much
parents | 2023-02-14 | family | Sarah's parents run a dry-cleaning business in Tacoma
brother | 2023-05-09 | family | Sarah's younger brother Daniel is studying computer science at UW
brother_job | 2024-06-30 | family, work | Daniel got a summer internship at Microsoft
partner | 2023-06-12 | relationships | Sarah has been dating a paramedic named Chris since last year
moved_in | 2024-09-14 | relationships, home | Sarah and Chris moved in together in a rented apartment in Ballard
studio | 2023-02-01 | home | Sarah rents a studio apartment on Capitol Hill
korean | 2023-02-20 | languages | Sarah speaks Korean with her grandmother but can't read it well
grandmother | 2023-11-05 | family, health | Sarah's grandmother was hospitalized with pneumonia
grandmother2 | 2023-12-10 | family, health | Sarah's grandmother is back home and doing better
exam | 2024-01-15 | work, career | Sarah is studying for the CCRN critical care certification exam
exam_pass | 2024-04-09 | work, career | Sarah passed the CCRN exam
np_goal | 2024-08-19 | work, career | Sarah is thinking about becoming a nurse practitioner
burnout | 2023-10-17 | health, work | Sarah told her manager she felt burned out after a month of extra shifts
therapy | 2023-11-20 | health, schedule | Sarah sees a therapist every other Monday
sleep_aid | 2023-10-20 | health | Sarah uses blackout curtains and melatonin to sleep during the day
running | 2024-02-03 | sport | Sarah started running with a couch-to-5K app
fivek | 2024-04-21 | sport, events | Sarah ran her first 5K in 31 minutes
music | 2023-07-14 | music | Sarah listens to K-pop, especially BTS and NewJeans
concert | 2023-07-28 | music, events | Sarah saw Taylor Swift in Seattle with her college roommate
dramas | 2023-08-20 | hobbies, tv | Sarah watches Korean dramas to unwind after shifts
korea_trip | 2024-03-14 | travel, family | Sarah visited Seoul and Busan with her mom
hawaii | 2024-12-09 | travel, plans | Sarah wants to go to Hawaii with Chris next spring
no_car | 2023-05-01 | transport | Sarah doesn't own a car and takes the bus or bikes to work
bike | 2023-06-25 | transport | Sarah's e-bike was stolen from outside the grocery store
bike2 | 2023-07-08 | transport | Sarah bought a new e-bike and a much heavier lock
phone | 2023-09-22 | tech | Sarah uses an iPhone 13 and an old iPad for reading
laptop | 2024-11-12 | tech | Sarah's laptop battery is dying and she wants a cheap replacement
latte | 2023-03-02 | food, drinks | Sarah drinks iced lattes with an extra shot before night shifts
caffeine | 2024-07-01 | health, drinks | Sarah is trying to stop drinking caffeine after midnight on shifts
birthday | 2023-02-01 | personal | Sarah's birthday is on 8 December
clinic | 2023-09-30 | community, work | Sarah volunteers at a free clinic one Sunday a month
plants | 2023-04-29 | home, hobbies | Sarah has lots of houseplants, including a fiddle leaf fig that keeps dropping leaves
books | 2023-06-01 | books | Sarah likes reading mystery novels
vaccine | 2023-10-05 | health | Sarah got her flu shot and COVID booster at work
ankle | 2024-05-30 | health, sport | Sarah twisted her ankle at the climbing gym and is on crutches
ankle2 | 2024-07-02 | health, sport | Sarah's ankle has healed and she is back to climbing
friend | 2023-04-22 | friends | Sarah's best friend Jess lives in Portland and visits monthly
""",
        "questions": """
paraphrase | contact | What's the best channel to get in touch with me?
paraphrase | shifts | Which part of the day do I clock in?
paraphrase | shellfish | Can I eat the shrimp at this restaurant?
paraphrase | loans | How much do I still owe for my degree?
paraphrase | partner | Who is my boyfriend?
paraphrase | parents | What do my mom and dad do for a living?
paraphrase | dramas | How do I wind down after work?
paraphrase | no_car | How do I commute?
paraphrase | latte | What do I order at the café before I clock in?
paraphrase | books | What kind of stories do I enjoy?
paraphrase | friend | Who's my closest pal?
paraphrase | cat_diet | What's special about my furball's meals?
lexical | cat_dental | What did the vet do to Mochi's teeth?
lexical | exam_pass | Did I pass the CCRN exam?
lexical | fivek | How fast did I run my first 5K?
lexical | climbing_trip | Where did I climb outdoors?
lexical | bike | What happened to my e-bike outside the grocery store?
lexical | brother_job | What internship did Daniel get?
date | grandmother | How was my grandmother doing in November 2023?
date | ankle | How did I hurt myself at the gym last Thursday? | 2024-06-03T08:30:00
date | bike2 | What happened with my e-bike three weeks ago? | 2023-07-29T11:00:00
multi | shellfish, vaccine | For a new clinic intake form, which allergy and recent shots should I list?
multi | cat_diet, cat_dental | What has the vet done for Mochi so far?
multi | therapy, shifts | Does my therapy day clash with my work week?
""",
    },
    {
        "user_id": "ahmed",
        "asked_at": "2025-01-16T07:45:00",
        "memories": """
job | 2023-01-05 | work | Ahmed is a project manager at a construction company in Manchester
project | 2023-06-19 | work | Ahmed is managing the build of a new hospital wing in Salford
project_delay | 2024-02-12 | work | The Salford hospital project is three months behind because of a steel shortage
project_done | 2024-11-28 | work | Ahmed's team handed over the finished hospital wing in Salford
halal | 2023-01-05 | food, religion | Ahmed eats only halal meat
ramadan | 2023-03-20 | religion, schedule | Ahmed fasts during Ramadan and avoids lunch meetings that month
prayer | 2023-01-05 | religion, schedule | Ahmed goes to the mosque for Friday prayers at 1pm
wife | 2023-01-05 | family | Ahmed's wife Fatima teaches Arabic at a community school
kids | 2023-01-05 | family | Ahmed has three grown children: Omar, Layla and Yusuf
grandkids | 2023-04-02 | family | Ahmed's daughter Layla has twin boys who are two years old
new_grandkid | 2024-08-26 | family | Ahmed's son Omar and his wife had a baby girl named Noor
omar_job | 2023-09-11 | family, work | Omar works as a pharmacist in Leeds
yusuf_uni | 2023-09-25 | family, school | Yusuf started a mechanical engineering degree at Sheffield
garden | 2023-04-15 | hobbies, home | Ahmed grows roses and vegetables on his allotment
allotment_prize | 2024-08-31 | hobbies | Ahmed won second prize for his marrows at the allotment show
knee_surgery | 2023-10-09 | health | Ahmed had keyhole surgery on his right knee
knee_physio | 2023-11-06 | health | Ahmed does physio exercises for his knee every morning
bp | 2024-01-18 | health, doctor | Ahmed's GP started him on amlodipine for high blood pressure
bp_check | 2024-04-22 | health, doctor | Ahmed's blood pressure was back in the normal range at his GP check
city | 2023-01-14 | sport | Ahmed has been a Manchester City season ticket holder for twenty years
city_final | 2023-06-10 | sport, travel, events | Ahmed travelled to Istanbul to watch City win the Champions League final
contact | 2023-01-05 | contact | Ahmed prefers phone calls to emails and doesn't use WhatsApp
email_work | 2023-02-08 | contact, work | Ahmed only checks his work email in the morning before site visits
car | 2023-03-03 | transport | Ahmed drove a Toyota Land Cruiser for site visits
car_new | 2024-06-05 | transport | Ahmed leased a hybrid Toyota RAV4 to cut his fuel costs
pension | 2023-05-15 | finance | Ahmed plans to retire at 60 and has a workplace pension
mortgage_paid | 2024-03-28 | finance, home | Ahmed paid off the mortgage on the family home in Didsbury
no_interest | 2023-05-15 | finance, religion | Ahmed avoids interest-bearing savings accounts for religious reasons
hajj | 2023-06-30 | travel, religion | Ahmed performed Hajj with Fatima
egypt | 2024-01-02 | travel, family | Ahmed visited his brother in Alexandria over New Year
brother | 2023-01-20 | family | Ahmed's older brother Karim still lives in Alexandria, Egypt
languages | 2023-01-05 | languages | Ahmed speaks Arabic and English, and some French from school
tea | 2023-01-25 | food, drinks | Ahmed drinks strong black tea with mint and two sugars
salt | 2024-01-30 | health, food | Ahmed is cutting down on salt since his blood pressure diagnosis
food_fav | 2023-02-19 | food | Ahmed's favourite dish is his mother's molokhia
kofta | 2023-07-23 | food, hobbies | Ahmed barbecues lamb kofta for the family on summer Sundays
spreadsheets | 2023-08-17 | tech | Ahmed struggles with spreadsheets and wants simple explanations
phone | 2023-08-17 | tech | Ahmed uses a Samsung Galaxy phone with large text turned on
glasses | 2023-12-04 | health | Ahmed wears varifocal glasses
reading | 2023-03-12 | books, hobbies | Ahmed reads history books about the Ottoman Empire
chess | 2024-02-25 | hobbies | Ahmed plays chess with Yusuf when he is home from university
mentoring | 2024-05-13 | work, community | Ahmed mentors two apprentice site managers
safety | 2023-07-05 | work | Ahmed's site passed its health and safety inspection without issues
safety2 | 2024-09-17 | work | A scaffolding accident on Ahmed's site led to a safety investigation
saturdays | 2023-01-05 | schedule, family | Ahmed keeps Saturdays free for family lunch at his house
red_meat | 2024-10-01 | health, food | Ahmed's doctor told him to eat less red meat
dawn | 2023-09-03 | health, religion | Ahmed wakes up at 5am for the dawn prayer
charity | 2023-04-21 | community, religion, finance | Ahmed donates to a Manchester food bank every Eid
home | 2023-01-05 | home | Ahmed lives in a semi-detached house in Didsbury
extension | 2024-07-15 | home | Ahmed is building a kitchen extension at the back of his house
fatima_health | 2024-03-05 | family, health | Fatima was diagnosed with type 2 diabetes
married | 2023-01-05 | family, personal | Ahmed and Fatima married in Cairo in 1994
birthday | 2023-01-05 | personal | Ahmed's birthday is on 30 August
""",
        "questions": """
paraphrase | halal | Can I have the pepperoni pizza?
paraphrase | prayer | When is my weekly congregational worship?
paraphrase | wife | What is my spouse's job?
paraphrase | garden | What flowers do I tend?
paraphrase | knee_surgery | What procedure was done on my leg?
paraphrase | city | Which club do I support?
paraphrase | contact | How do I like people to get hold of me?
paraphrase | car_new | What's my current motor?
paraphrase | pension | When can I stop working?
paraphrase | mortgage_paid | Do I still owe anything on the house?
paraphrase | tea | How do I take my cuppa?
paraphrase | languages | Which tongues can I converse in?
lexical | project_delay | How far behind is the Salford hospital project?
lexical | allotment_prize | What prize did I win at the allotment show?
lexical | yusuf_uni | Which degree did Yusuf start at Sheffield?
lexical | bp | What did my GP start me on for blood pressure?
lexical | brother | Where does my brother Karim live?
lexical | chess | Who do I play chess with?
date | safety2 | What happened on my site in September 2024?
date | egypt | Where did I travel in January 2024?
date | project_done | What was the latest on the hospital wing two weeks ago? | 2024-12-12T17:00:00
multi | grandkids, new_grandkid | How many grandchildren do I have?
multi | red_meat, fatima_health | What should I cook that suits my doctor's advice and Fatima's condition?
multi | prayer, ramadan | I'm planning lunch meetings for March, any conflicts on Fridays or with fasting?
""",
    },
    {
        "user_id": "lena",
        "asked_at": "2025-01-17T13:20:00",
        "memories": """
phd | 2023-01-10 | work, education | Lena is a PhD student in computational biology at the Charité in Berlin
thesis | 2023-05-03 | work, education | Lena's thesis is about predicting protein folding errors with machine learning
advisor | 2023-05-03 | work | Lena's supervisor Professor Weber is hard to reach and replies only to short emails
paper1 | 2023-11-14 | work | Lena's first paper was rejected by Nature Methods
paper2 | 2024-04-08 | work | Lena's paper was accepted at Bioinformatics after two revisions
ismb | 2024-07-15 | work, travel | Lena gave a talk at the ISMB conference in Montreal
vegan | 2023-01-10 | food, diet | Lena has been vegan for five years
iron | 2023-06-26 | health | Lena's blood test showed low iron and she takes supplements
b12 | 2024-06-24 | health | Lena's blood test showed her B12 levels are fine now
cycling | 2023-01-10 | transport, sport | Lena cycles everywhere and doesn't have a driving licence
elbe | 2023-08-21 | travel, sport | Lena cycled the Elbe river path from Dresden to Hamburg
cello | 2023-02-02 | music, hobbies | Lena plays cello in a university orchestra that rehearses on Wednesday nights
dvorak | 2023-12-16 | music, events | Lena's orchestra performed Dvořák's New World Symphony
stipend | 2023-01-10 | finance | Lena lives on a PhD stipend of about 1,800 euros a month
rent | 2023-03-01 | finance, home | Lena pays 650 euros for a room in a shared flat in Neukölln
new_flat | 2024-10-01 | home | Lena moved into a one-room apartment in Wedding
flatmates | 2023-03-01 | home, friends | Lena's flatmates are a Spanish architect and a Polish musician
spanish | 2023-09-04 | languages, education | Lena is learning Spanish with Duolingo and a weekly tandem partner
linux | 2023-01-10 | tech | Lena uses Arch Linux on a ThinkPad and refuses to use Windows
python | 2023-05-10 | tech, work | Lena writes her analysis code in Python and PyTorch
cluster | 2024-02-20 | tech, work | Lena runs her experiments on the university GPU cluster, which has long queues
parents | 2023-01-10 | family | Lena's parents live in a small village near Freiburg
sister | 2023-04-17 | family | Lena's sister Clara is a midwife in Munich
nephew | 2024-05-05 | family | Clara had a baby boy named Felix
girlfriend | 2023-06-02 | relationships | Lena's girlfriend Sofia is a graphic designer from Lisbon
sofia_move | 2024-02-02 | relationships | Sofia moved to Berlin, so she and Lena are no longer long-distance
contact | 2023-01-10 | contact | Lena prefers Signal messages and ignores phone calls from unknown numbers
night_owl | 2023-01-10 | schedule | Lena is a night owl and rarely starts work before 11am
yoga | 2023-10-03 | sport, health | Lena does yoga on Sunday mornings to help with back pain
back | 2023-09-28 | health | Lena has back pain from sitting at her desk all day
anxiety | 2024-01-22 | health | Lena has anxiety before presentations and uses breathing exercises
coffee | 2023-01-10 | drinks, food | Lena drinks oat milk flat whites
pho | 2023-04-30 | food | Lena's favourite food is Vietnamese pho with tofu
meal_prep | 2023-11-02 | food, hobbies | Lena meal-preps lentil curry every Sunday
hay_fever | 2023-02-15 | health, allergies | Lena has hay fever every spring and takes antihistamines
lisbon_xmas | 2023-12-27 | travel, relationships | Lena spent Christmas with Sofia's family in Lisbon
vienna | 2024-11-20 | travel, plans | Lena wants to take the night train to Vienna for a conference in March
no_flying | 2023-01-10 | values, travel | Lena avoids flying for short trips because of climate concerns
strike | 2023-09-15 | community, values | Lena joined the global climate strike in Berlin
books | 2023-07-10 | books | Lena reads science fiction, especially Ursula K. Le Guin
games | 2023-10-21 | hobbies, games | Lena plays board games with friends every Friday
wingspan | 2024-03-09 | hobbies, games | Lena's favourite board game is Wingspan
monstera | 2023-04-05 | home, hobbies | Lena has a monstera plant she calls Gustav
birthday | 2023-01-10 | personal | Lena's birthday is on 17 February
job_search | 2024-09-09 | work, career | Lena is considering a postdoc in Copenhagen or an industry job in biotech
interview | 2024-11-05 | work, career | Lena had a job interview with a biotech startup in Basel
offer | 2024-12-10 | work, career | Lena received a job offer from the Basel biotech startup
teaching | 2023-10-16 | work, schedule | Lena is a teaching assistant for an introductory statistics course on Tuesday mornings
swimming | 2024-07-30 | sport | Lena swims in the Schlachtensee lake in summer
radler | 2023-05-20 | drinks | Lena rarely drinks alcohol but likes a Radler on hot days
passport | 2024-03-18 | travel, admin | Lena's passport expires in August 2025
insurance | 2023-02-27 | finance, health | Lena has public health insurance with TK
""",
        "questions": """
paraphrase | vegan | Can I have some cheese on my pizza?
paraphrase | thesis | What is my research on?
paraphrase | advisor | How should I write to my boss?
paraphrase | cycling | Do I own a car?
paraphrase | cello | What instrument am I in an ensemble for?
paraphrase | stipend | How much do I earn?
paraphrase | linux | Which operating system do I run?
paraphrase | contact | What's the best way to reach me?
paraphrase | night_owl | When do I get going in the morning?
paraphrase | hay_fever | Why do I sneeze so much in April?
paraphrase | girlfriend | What's my partner's profession?
paraphrase | monstera | What's the name of my leafy housemate?
lexical | paper2 | Which journal accepted my paper?
lexical | ismb | Where did I give my ISMB talk?
lexical | iron | What did my blood test say about iron?
lexical | nephew | What is the name of Clara's baby?
lexical | wingspan | What is my favourite board game?
lexical | passport | When does my passport expire?
date | b12 | What did my blood test show in June 2024?
date | interview | What happened with my job search last Tuesday? | 2024-11-08T10:00:00
date | paper1 | What happened with my paper in November 2023?
multi | teaching, cello | What's on my calendar on Tuesdays and Wednesdays?
multi | vegan, pho | Which lunch spot suits my diet and my favourite cuisine?
multi | iron, hay_fever | Which health issues am I treating with tablets?
""",
    },
]
