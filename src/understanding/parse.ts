// Text → frame. The one place that reads what a person typed: it cleans Slack's markup and
// common short forms, takes out the time (src/time) and the environment, finds the names
// (NameIndex), and decides the measure from cue words, with the subject's kind as the
// fallback ("gl_summary?" asks for its status, "acme_payments?" for its arrivals). Words
// that no slot used lower the confidence: below CONFIDENT the router asks back instead of
// answering a different question.
import { parseTimeWindow, type TimeWindow } from "../time/index.ts";
import type { Frame, Measure, Subject, SubjectKind } from "./frame.ts";
import {
  editDistance,
  type Mention,
  type NameCandidate,
  type NameIndex,
  stem,
  typoBudget,
  words,
} from "./names.ts";

export interface Parsed {
  frame: Frame;
  /** The window with its label, for the "what I understood" line. */
  window?: TimeWindow;
  /** 0..1: how much of the question the frame explains. */
  confidence: number;
  /** Content words no slot used. */
  unused: string[];
  /** Other readings worth offering when unsure (different subject or measure). */
  alternatives: Frame[];
  /** True when no measure cue was found and the frame is the subject's default. */
  defaulted: boolean;
  /** True when the subject's name was typed without a typo (any separators or case, with or without its prefix). */
  subjectExact: boolean;
  /** True when two names fit the words equally well: ask which, never guess. */
  ambiguous?: boolean;
}

/** At or above this, answer; below, offer interpretations. */
export const CONFIDENT = 0.6;

const ENVIRONMENTS: Record<string, string> = {
  prod: "prod",
  production: "prod",
  prd: "prod",
  prdo: "prod",
  live: "prod",
  staging: "staging",
  stage: "staging",
  stg: "staging",
  stging: "staging",
  dev: "dev",
  development: "dev",
  qa: "qa",
  uat: "qa",
};

/** Short forms and frequent misspellings, word for word, before anything else reads the text. */
const SHORT_FORMS: Record<string, string> = {
  yday: "yesterday",
  tdy: "today",
  evry: "every",
  accts: "accounts",
  acct: "account",
  tues: "tuesday",
  tue: "tuesday",
  weds: "wednesday",
  wed: "wednesday",
  thurs: "thursday",
  thu: "thursday",
  fri: "friday",
  mon: "monday",
  "w/o": "without",
  "w/": "with",
  tday: "today",
  mnth: "month",
  mth: "month",
  ystd: "yesterday",
  yest: "yesterday",
  yesterdays: "yesterday",
  tmrw: "tomorrow",
  tmr: "tomorrow",
  tmrrw: "tomorrow",
  tonite: "tonight",
  tnight: "tonight",
  rn: "now",
  atm: "now",
  pls: "",
  plz: "",
  please: "",
  thx: "",
  thanks: "",
  hey: "",
  hi: "",
  yo: "",
  wk: "week",
  wks: "weeks",
  hr: "hour",
  hrs: "hours",
  mins: "minutes",
  env: "environment",
  envs: "environments",
  u: "you",
  ur: "your",
  r: "are",
  w: "with",
  b4: "before",
  "2day": "today",
  "2nite": "tonight",
  whats: "what is",
  whend: "when did",
  bc: "because",
  cuz: "because",
  coz: "because",
  whered: "where did",
  gonna: "going to",
  wanna: "want to",
  doin: "doing",
  nite: "night",
  sucessfully: "successfully",
  sucessful: "successful",
  what_s: "what is",
  hows: "how is",
  wheres: "where is",
  whens: "when is",
  didnt: "did not",
  didn: "did not",
  doesnt: "does not",
  isnt: "is not",
  wasnt: "was not",
  havent: "have not",
  hasnt: "has not",
  arent: "are not",
  werent: "were not",
  cant: "can not",
  wont: "will not",
  dont: "do not",
  avg: "average",
  dur: "duration",
  deps: "deploys",
  depl: "deploy",
  deployment: "deploy",
  deployments: "deploys",
  deployed: "deploy",
  releases: "deploys",
  release: "deploy",
  released: "deploy",
  shipped: "deploy",
  ppl: "pipelines",
  pipes: "pipelines",
  tix: "tickets",
  dag: "job",
  dags: "jobs",
};

/** Words of time and measure vocabulary that typos are corrected towards (not names). */
const VOCABULARY = [
  "yesterday",
  "today",
  "tonight",
  "tomorrow",
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
  "week",
  "month",
  "hours",
  "minutes",
  "failed",
  "failures",
  "failing",
  "failure",
  "schedule",
  "scheduled",
  "deploys",
  "deploy",
  "fresh",
  "freshness",
  "stale",
  "status",
  "duration",
  "runtime",
  "usually",
  "typically",
  "normally",
  "usual",
  "average",
  "arrived",
  "arrive",
  "supplier",
  "suppliers",
  "incidents",
  "incident",
  "acknowledged",
  "missing",
  "missed",
  "summary",
  "tickets",
  "columns",
  "schema",
  "environment",
  "environments",
  "pipelines",
  "pipeline",
  "started",
  "finished",
  "longer",
  "slower",
  "quality",
  "tests",
  "passed",
  "troublesome",
  "flaky",
  "flapping",
  "successful",
  "succeeded",
  "succeed",
  "triggered",
  "running",
  "memory",
  "expensive",
  "rows",
  "records",
  "production",
  "staging",
];

/**
 * Real words one typo away from a vocabulary word: never corrected ("state" is not a typo
 * of "stale", nor "stable", "later" of "latest").
 */
const WORDS = new Set(
  (
    "state states stable stage start starts started table tables later latest late rate rates date dated " +
    "files filed field fields sales scale stall stalled store stored still stuck steady stats status " +
    "tester testing mailed rolled runner runners finish finishes fished passes posted hourly daily nightly " +
    "weekly monthly mornings evening evenings stamp usage using mostly slowest slowly staged stages"
  ).split(" "),
);

const STOP = new Set(
  (
    "a an the of to in on at for from by with and or but is are was were be been being am do does did done " +
    "has have had it its this that these those there their them they i me my we our us you your he she " +
    "what which who whom whose when where why how any anything some all every each no not yes " +
    "can could would should will shall may might must just about tell show give list get find check " +
    "let know see look me please pls thanks now up out so than then too very also still yet " +
    "as if into over under again ever one ones thing things stuff one's im i'm ok okay hey hi " +
    "houston bot quick question q is it possible whether wondering curious need want like see"
  ).split(" "),
);

interface Cue {
  measure: Measure;
  re: RegExp;
  weight: number;
}

// Cue words per measure, read on the cleaned text with names taken out. Several may fire;
// the heaviest total wins. Weights order the specific over the general ("p95 runtime" is
// duration, not runs; "failure rate" is not "failures").
const CUES: Cue[] = [
  {
    measure: "failure_rate",
    re: /\b(?:(?:fail(?:ure|ed|s)?|error|success|succe(?:ss|eded))\s*(?:rate|ratio|percent(?:age)?|pct)|(?:percent|percentage|fraction|share|proportion|ratio) of .*\b(?:fail\w*|succe\w*|error\w*)|how often (?:does|do) .*\bfail|fails? (?:often|a lot)|how (?:reliable|flaky|stable) (?:is|are|has|have)|reliability of)\b/,
    weight: 6,
  },
  {
    measure: "duration",
    re: /\b(?:how long|longest|shortest|duration|runtime|run time|run-time|took|take[sn]?|taking|p50|p9[059]|95th|99th|percentile|median|slow(?:er|est)?|fast(?:er|est)?|long(?:er|est)? (?:than|running|run)|wall ?clock|elapsed|minutes does|hours does|time spent|spent running|quick(?:er|est)|compute time)\b/,
    weight: 3,
  },
  {
    measure: "start_lateness",
    re: /\b(?:start(?:ed|s|ing)? (?:late|latest|on time|in time|late or|lateness|delays?)|late start(?:s|ing)?|kick(?:ed)? off late|start(?:ed)? (?:at what time|when)|how late (?:did|does|do|has|was|is) .*start|delay(?:ed)? start|start delays?|late to start|start (?:the )?latest|what time did .* start|start times?|(?:late|latest) starters?|kick(?:ed|s)? off (?:late|latest|the latest|on time|in time)|how late did .* (?:start|kick off)|started latest|how late (?:has|have) .*\bstart\w*|start(?:ed)? on schedule|kick(?:ed)? off on schedule|delayed start\w*|start\w* with (?:a )?delay|(?:minutes|mins|min|hours|hrs) late (?:did|does|do) .*\bstart|(?:start\w*|kick(?:ed|s)? off|began|begin)\s+(?:behind schedule|behind|after (?:its|the|their) (?:usual|scheduled) time))\b/,
    weight: 6,
  },
  {
    measure: "root_cause",
    re: /\b(?:why|root ?cause|rca|what caused|caused|cause of|reason (?:for|why)|because|late because|blame|what happened (?:to|with)|what made|where did .*\b(?:break|fail|go wrong)|start(?:ed)? late or|late start or|or (?:a )?(?:slow|long) run|or (?:because )?(?:it )?(?:took|take|ran|run) (?:too )?long|upstream (?:cause|failure|issue|problem)|or (?:something )?upstream|upstream (?:or|vs)|long run or|failed first|what(?:s| is)? behind|where did .*\b(?:problem|issue) (?:start|begin|happen)|slowdown|making .*\bfail|(?:whats|what is|who is) causing)\b/,
    weight: 4,
  },
  {
    measure: "ended_late",
    re: /\b(?:(?:finish|end|complet|land|done|wrap(?:ped)? up|finali[sz])\w* (?:late|later|latest|on time|in time|on schedule)|(?:finish|end)\w* (?:the )?latest|late(?:r)? (?:finish|end|complet|land)\w*|later than usual|how late did .* (?:finish|end|complete|land)|(?:finish|end|completion) times?|what time did .* (?:finish|end|complete)|finish(?:ed)? after usual|(?:was|is|were|are) .*\blate\b|late (?:today|yesterday|again)|^NAME late$|behind schedule|(?:finish|end|complet|land|done)\w* behind)\b/,
    weight: 5,
  },
  {
    measure: "missed",
    re: /\b(?:miss(?:ed|ing|es)?|skip(?:ped|s)?|never ran|gaps?|didnt happen|did not happen|supposed to run|expected runs?|expected (?:vs|versus) actual|should have run|no[- ]show|(?:every|everything|all)\b.*\b(?:run|ran|refresh(?:ed)?|load(?:ed)?|update(?:d)?|fire[ds]?|kick(?:ed)? off)\b)\b/,
    weight: 4,
  },
  {
    measure: "plan",
    re: /\b(?:scheduled|schedule|planned|plan|coming up|upcoming|will .*\brun|going to run|due (?:to run|today|tonight)|left(?: to run)?|remaining|still to (?:run|come)|next runs?|run next|next (?:running|starting|kicking off|going)|when is NAME next|runs? left|queued|later today|rest of (?:the )?day|on deck|when (?:does|do|will) .*\b(?:run|start|kick off)|what runs|when (?:is|s) the next|next NAME)\b/,
    weight: 4,
  },
  {
    measure: "ordering",
    re: /\b(?:after (?:all|every|everything|each|the rest)|before (?:all|every|everything)|in (?:the right )?order|ran (?:after|before)|run (?:after|before)|go (?:after|before)|start(?:ed)? (?:after|before)|finish(?:ed)? (?:after|before)|wait(?:ed|s)? (?:for|on)|NAME after NAME|NAME before NAME|after NAME (?:was |had )?(?:done|finished|completed)|before NAME (?:was |had )?(?:done|finished|completed)|(?:only )?once (?:all of |every |all )?NAME (?:was |were |had )?(?:done|finished|completed)|(?:vs|versus) the rest of|sequence of|in sequence)\b/,
    weight: 5,
  },
  {
    measure: "rows",
    re: /\b(?:rows?|row count|records? (?:written|loaded|processed|count)|how many records|volume|row volume|records)\b/,
    weight: 3,
  },
  {
    measure: "freshness",
    re: /\b(?:fresh|freshness|stale|up[- ]?to[- ]?date|out[- ]?of[- ]?date|outdated|last (?:update|updated|refresh|refreshed|load|loaded)|updated|refreshed|how old|age of|current|latest data|data (?:current|lag)|lagging|lag)\b/,
    weight: 4,
  },
  {
    measure: "arrivals",
    re: /\b(?:arriv(?:e|ed|al|als|ing)|on[- ]time (?:percent|rate)|in yet|here yet|sent (?:anything|any|us|the)|land(?:ed|ing)?|deliver\w*|(?:come|came) in|drops?|supplier|suppliers|vendor|vendors|feed (?:come|came)|files? (?:come|came|in))\b/,
    weight: 4,
  },
  {
    measure: "tests",
    re: /\b(?:tests?|dq|data quality|quality|checks|(?:dq|quality|data|dbt) check|assertions?|expectations?|pass(?:ed|ing|es)?|warn(?:ed|ing|s)?|not[_ ]null|unique(?:ness)?|accepted values)\b/,
    weight: 3,
  },
  {
    measure: "deploys",
    re: /\b(?:deploys?|deployed|rollouts?|rolled (?:back|out)|rollback|versions?|what version|v\d+(?:\.\d+)*|(?:did|do) we (?:ship|release|push out)|we shipped|(?:ship|shipped|released) (?:to|into) (?:prod|production|staging|dev|qa))\b/,
    weight: 4,
  },
  {
    measure: "schema_changes",
    re: /\b(?:schema|drift|change(?:d)? shape|shape change\w*|columns?|(?:fields?|cols?) (?:added|removed|dropped|changed|renamed)|new (?:fields?|columns?|cols?)|renamed|dropped|retyped|type changes?|ddl|breaking changes?)\b/,
    weight: 5,
  },
  {
    measure: "incidents",
    re: /\b(?:incidents?|pages?|paged|paging|alerts?|alerting|on[- ]?call|acknowledged|ack(?:ed)?|pagerduty|open issues|anything open|open for|open items)\b/,
    weight: 5,
  },
  {
    measure: "troublesome",
    re: /\b(?:troublesome|intermittent\w*|(?:broke|break|breaks|failed|fail|fails) the most|problematic|flak\w*|flap(?:ping|py|s)?|unreliable|reliable|stable|stablest|dependable|worst|least reliable|problem (?:jobs?|pipelines?)|keeps? (?:breaking|failing|falling over)|(?:breaking|failing|erroring|crashing) (?:the )?most|most (?:failures|failing|broken|problems|issues|errors)|fail(?:s|ed|ing)? the most|break(?:s)? the most|most often|pain ?points?|(?:biggest|main) (?:problem|offender)s?|top offenders?|noisiest|causing (?:the )?most|problem child(?:ren)?|trouble ?makers?|most trouble|headaches?|gives? .*\btrouble)\b/,
    weight: 5,
  },
  {
    measure: "summary",
    re: /\b(?:summary|happening|summari[sz]e|overview|recap|rundown|run down|nutshell|digest|report card|worry|concern(?:ed|ing)?|anything (?:wrong|broken|bad|off|notable|interesting|important|i should)|what happened|going on|whats up|catch me up|what did i miss|how (?:did|was) (?:the )?(?:night|day|weekend|yesterday|last night)|health check|healthcheck|sitrep|tl;?dr|brief(?:ing)?|morning report|any fires|on fire|state of play|status report|red flags?|tl dr|tldr|how (?:everything|things|stuff) (?:is |are )?(?:looking|going)|how (?:are|is) (?:things|everything|stuff|it all) (?:looking|going))\b/,
    weight: 4,
  },
  {
    measure: "environments",
    re: /\b(?:per environment|by environment|each environment|environments|environment breakdown|which environment|what environment|prod vs|vs (?:dev|prod|staging)|production vs|in (?:prod|production) (?:vs|versus|and|or) (?:dev|staging|development))\b/,
    weight: 5,
  },
  {
    measure: "tickets",
    re: /\b(?:tickets?|jira|issues? (?:released|shipped|went out)|stories|what (?:went|got) (?:out|shipped|released)|changelog|release notes)\b/,
    weight: 5,
  },
  {
    measure: "cost",
    re: /\$\$|\b(?:cost\w*|spend|spent|spending|expensive|cheap(?:er|est)?|price|pricing|dollars?|\$|bill(?:ing)?|budget|money)\b/,
    weight: 5,
  },
  {
    measure: "resources",
    re: /\b(?:cpu|memory|mem|ram|resources?|resource usage|utili[sz]ation|cores?|vcpu|oom|heap|gb|mb)\b/,
    weight: 5,
  },
  {
    measure: "upstream",
    re: /\b(?:upstream|(?:what|which \w+) (?:does|do) (?:the )?NAME (?:read|depend on|use|consume|need|pull from|load from)|NAME (?:depends?|relies|rely) on|depends? on what|dependencies|deps of|inputs? (?:of|to|for)|sources? (?:of|for) (?:the )?NAME|where does (?:the )?NAME (?:get|read|come from|pull)|NAME come from|(?:what|which \w+) (?:feeds?|feeding) (?:into )?(?:the )?NAME|(?:pulls?|reads?|loads?) from|lineage|what comes before)\b/,
    weight: 6,
  },
  {
    measure: "downstream",
    re: /\b(?:downstream|(?:what|who|which \w+) (?:depends?|relies|rely) on|(?:what|who|which \w+) (?:reads?|uses?|consumes?|needs?)(?! NAME (?:read|use|consume|need))|readers? of|consumers? of|dependents?|impact(?:ed)?|blast radius|(?:will|would|could|does) .*\bbreak if|break(?:s)? if|affected (?:if|by)|what does (?:the )?NAME feed|what comes after)\b/,
    weight: 6,
  },
  {
    measure: "owner",
    re: /\b(?:who owns|whos? owns|owner(?:s)? of|NAME owner|whose (?:job|table|pipeline|dag|dataset|is)|who is responsible|who(?:s| is) responsible|which team (?:owns|runs|is responsible)|who (?:runs|maintains|looks after)|who (?:do|should|can|would) i (?:ping|talk to|ask|contact|reach out to|bug|speak to)|who to (?:ping|contact|ask|talk to)|owner for|on the hook for|point of contact|poc for)\b/,
    weight: 6,
  },
  {
    measure: "bad_records",
    re: /\b(?:bad (?:records?|rows?|data)|reject(?:ed|s|ions?)?|invalid (?:records?|rows?)|malformed|quarantin\w*|dead ?letter\w*|dlq|errored (?:records?|rows?)|records? (?:rejected|dropped|failed)|drop(?:ped)? (?:any |some )?(?:records?|rows?)|(?:any|how many) (?:records?|rows?) (?:dropped|rejected|discarded))\b/,
    weight: 6,
  },
  {
    measure: "deploy_impact",
    re: /\b(?:(?:fail\w*|errors?|broke|break\w*|problems?|issues?) (?:start\w*|began|begin|since|after|right after) (?:the |a |our |its |their |that )?(?:last |latest |recent |new )?(?:deploy\w*|release\w*|rollout\w*|ship\w*)|since (?:the |a |our |its |their |that )?(?:last |latest |recent |new )?(?:deploy|release|rollout)\w*|(?:deploy|release|rollout)\w* (?:broke|break|caused|cause|made)|(?:broke|break|caused) by (?:the |a |our )?(?:last |latest )?(?:deploy|release|rollout)\w*|after (?:the |a |our |its )?(?:last |latest |recent )?(?:deploy|release|rollout)\w*|(?:since|after) (?:the )?NAME (?:deploy|release|rollout)\w*)\b/,
    weight: 8,
  },
  {
    measure: "refresh_history",
    re: /\b(?:(?:refresh|update|load|delivery|landing) (?:history|log|timeline)|history of (?:the )?(?:updates|refreshes|loads)|(?:updates|refreshes|loads) history|(?:last|latest|recent|past) (?:\d+ |few |several )?(?:updates|refreshes|loads)(?: of| to| for)?|when (?:was|has|did) (?:the )?NAME (?:been )?(?:updated|refreshed|loaded) (?:recently|lately|this week|over time)|how often (?:is|was|does) (?:the )?NAME (?:get )?(?:updated|refreshed|loaded)|update cadence|refresh cadence|(?:show|list|give)(?: me)? (?:the )?(?:updates|refreshes|loads)|(?:updates|refreshes|loads) (?:of|to|for) NAME)\b/,
    weight: 7,
  },
  {
    measure: "sla",
    re: /\b(?:slas?|service levels?|sla attainment|attainment|(?:meet|met|hit|miss(?:ed)?|make|made) (?:our|the|its|their) (?:slas?|targets?|deadlines?|commitments?)|sla (?:breach\w*|miss\w*|report|numbers)|breach(?:es|ed)?)\b/,
    weight: 6,
  },
  {
    measure: "anomalies",
    re: /\b(?:anomal\w*|outliers?|abnormal\w*|(?:volume|row count|rows?) (?:drop|spike|dip)s?|(?:drop|spike|dip)s? in (?:volume|rows|row count)|unusual (?:behaviou?r|activity|patterns?)|odd (?:behaviou?r|patterns?)|anything (?:unusual|odd|weird|strange|off)|(?:weird|strange|odd) (?:runs?|numbers)|look(?:s|ed|ing)? (?:weird|odd|strange|unusual|abnormal))\b/,
    weight: 6,
  },
  {
    measure: "status",
    re: /\b(?:status|stauts|ok|okay|healthy|health|alright|all right|all good|working|green|good shape|going|doing|looking|state|running (?:now|right now|currently)|currently|right now|now|stuck|hung|down|still running|(?:is|are) .*\b(?:running|failing|broken|red)|up and running)\b/,
    weight: 2,
  },
  {
    // "idle alerts broken?", "gl summary down": a name and a state is the state now.
    measure: "status",
    re: /^NAME (?:broken|down|failing|stuck|dead|red|ok|okay|fine|healthy|green)(?: again| rn| now| today)?$/,
    weight: 4,
  },
  {
    measure: "last_success",
    re: /\b(?:(?:last|latest|most recent) (?:success|successful\w*|succeeded|good|green|passing|ok|clean|healthy)|succe\w* (?:the )?last time|(?:last|latest|most recent)\b.*\b(?:succe\w*|successfully|passed|pass|worked|cleanly|clean|ok|without errors|with no errors|w\/o errors|green)|when did .*\b(?:succeed|work)|last succeeded)\b/,
    weight: 6,
  },
  {
    measure: "last_failure",
    re: /\b(?:(?:last|latest|most recent) (?:failure|failed|fail|error|red|broke|crash|bad)|ever fail\w*\b.*\blast|fail\w* (?:for )?the last time|(?:last|latest|most recent)\b.*\b(?:fail\w*|broke|broken|blow up|blew up|crash\w*|error\w*|red)|when did .*\b(?:fail|break|crash|error))\b/,
    weight: 6,
  },
  {
    measure: "last_run",
    re: /\b(?:(?:last|latest|most recent) (?:run|ran|time|execution|executed|sync|load|refresh)|when (?:did|was) .*\blast\b|\blast (?:go|went|run|ran|train|sync|load)|when did .*\b(?:run|ran|execute|go|train|sync|load)|time of (?:the )?last|ran last|run last|last NAME (?:run|ran|job|load|sync|refresh)|last (?:kick(?:ed)? off|start(?:ed)?)|^(?:the )?(?:last|latest) NAME$|whens? (?:is |was )?the last NAME)\b/,
    weight: 5,
  },
  {
    measure: "failures",
    re: /\b(?:fail(?:ed|s|ing|ure|ures)?|errors?|errored|broke|broken(?! down)|break(?:s|ing)?(?! (?:it |them |this |that )?down)|crash(?:ed|es)?|red|went wrong|blew up|died|exceptions?|f[ae]ll over|falling over|(?:every|everything|all)\b.*\b(?:succe\w*|pass(?:ed)?|work(?:ed)?))\b/,
    weight: 3,
  },
  {
    measure: "runs",
    re: /\b(?:run|ran|runs|execut(?:e|ed|ion|ions)|trigger(?:ed)?|NAME (?:go|went)|fire[ds]?|(?:model )?build|built|kick(?:ed)? off|complete(?:d)?|succe(?:ed|eded|ss)|finish(?:ed)?|happen(?:ed)?|go(?:ne)? through|work(?:ed)?)\b/,
    weight: 2,
  },
];

/** True when the cue's pattern spells the word (or its stem: "fail\\w*" spells "failing"). */
function spelledBy(re: RegExp, w: string): boolean {
  if (w === "NAME" || re.source.includes(w)) return true;
  for (let k = w.length - 1; k >= 3; k--) if (re.source.includes(`${w.slice(0, k)}\\w*`)) return true;
  return false;
}

/** True when the match needs its k-th word: with another word there, the cue no longer matches. */
function needed(re: RegExp, match: string, k: number): boolean {
  const ws = match.split(/\s+/);
  ws[k] = "zzqx";
  return !re.test(ws.join(" "));
}

const globals = new Map<RegExp, RegExp>();
function globalOf(re: RegExp): RegExp {
  let g = globals.get(re);
  if (!g) globals.set(re, (g = new RegExp(re.source, "g")));
  return g;
}

/** What a subject asks about when no cue names a measure. */
const DEFAULT_MEASURE: Record<SubjectKind, Measure> = {
  fleet: "summary",
  group: "status",
  job: "status",
  dataset: "freshness",
  supplier: "arrivals",
  artifact: "deploys",
  project: "tickets",
  test: "tests",
  environment: "summary",
  owner: "status",
};

/** The subject kinds each measure reads, in order of preference. */
const KINDS_FOR: Partial<Record<Measure, SubjectKind[]>> = {
  freshness: ["dataset", "job", "group", "supplier"],
  rows: ["job", "dataset", "group"],
  arrivals: ["supplier", "dataset"],
  deploys: ["artifact", "project", "group", "job"],
  tickets: ["project", "artifact"],
  tests: ["test", "dataset", "job", "group"],
  schema_changes: ["dataset", "job", "group"],
  // What reads a table is asked of the table; what a job reads, of the job.
  downstream: ["dataset", "job", "group"],
  upstream: ["job", "dataset", "group"],
  bad_records: ["job", "dataset", "group"],
  anomalies: ["job", "dataset", "group"],
  refresh_history: ["dataset", "job"],
  deploy_impact: ["group", "job", "artifact"],
  sla: ["group", "job", "dataset"],
  owner: ["job", "dataset", "group"],
};
const DEFAULT_KINDS: SubjectKind[] = [
  "job",
  "group",
  "dataset",
  "artifact",
  "supplier",
  "project",
  "test",
  "owner",
];

/**
 * True when the word at `at` belongs to a name said whole: "user embeddings staging" is
 * the job user_embeddings_staging, not user_embeddings in staging.
 */
function partOfName(text: string, at: number, names: NameIndex): boolean {
  const tokens = words(text);
  const k = words(text.slice(0, at)).length;
  return names
    .find(tokens)
    .some(
      (m) => m.start <= k && k < m.end && m.end - m.start > 1 && m.candidates.some((c) => c.whole && c.exact),
    );
}

/** Slack's markup and typing habits → plain lowercase words. */
export function clean(input: string): string {
  let s = input
    .replace(/^\s*\/?houston\b\s*/i, "")
    .replace(/<@[^>]+>/g, " ")
    .replace(/<#[^>|]*\|?([^>]*)>/g, " $1 ")
    .replace(/<!(?:here|channel|everyone)[^>]*>/g, " ")
    .replace(/<(?:https?|mailto):[^>|]*\|([^>]*)>/g, " $1 ")
    .replace(/<(?:https?|mailto):[^>]*>/g, " ")
    // Slack emoji (":coffee:", ":rotating_light:") carry no question.
    .replace(/:[a-z0-9_+'-]+:/gi, " ")
    .replace(/[‘’`´]/g, "'")
    .replace(/[“”]/g, '"')
    .toLowerCase();
  s = s
    .replace(/(\w)'s\b/g, "$1")
    .replace(/'/g, "")
    .replace(/%/g, " percent ")
    .replace(/\$+/g, " cost ")
    // "broken down by env" splits; it is not "broken".
    .replace(/\b(?:broken|split|broke) (?:down|out) by\b/g, "by");
  s = s.replace(/["*?!,;()[\]{}]+/g, " ").replace(/:(?!\d)/g, " ");
  const out: string[] = [];
  for (const tok of s.split(/\s+/)) {
    if (!tok) continue;
    const bare = tok.replace(/^[.]+|[.]+$/g, "");
    const sf = SHORT_FORMS[bare];
    if (sf !== undefined) {
      if (sf) out.push(sf);
      continue;
    }
    out.push(bare);
  }
  return out.join(" ");
}

/** Corrects typos of vocabulary words ("yesterdy", "faild") unless the word is part of a name. */
function correct(text: string, names: NameIndex): string {
  return text
    .split(" ")
    .map((w) => {
      if (
        w.length < 5 ||
        /[^a-z]/.test(w) ||
        VOCABULARY.includes(w) ||
        WORDS.has(w) ||
        STOP.has(w) ||
        names.knows(w)
      )
        return w;
      let best: string | undefined;
      let bestD = Infinity;
      for (const v of VOCABULARY) {
        const budget = Math.min(typoBudget(w.length), typoBudget(v.length));
        if (budget === 0) continue;
        const d = editDistance(w, v, budget);
        if (d <= budget && d < bestD) {
          best = v;
          bestD = d;
        }
      }
      return best ?? w;
    })
    .join(" ");
}

export interface ParseContext {
  now: Date;
  timezone: string;
  names: NameIndex;
}

export function parseFrame(input: string, ctx: ParseContext): Parsed {
  // A question mark makes "gl_summary ran today?" a yes/no question without a "did".
  const asks = /\?\s*(?:[:;][-(]?\)?|\W*)$/.test(input.trim()) || /\?\s/.test(input);
  let text = correct(clean(input), ctx.names);

  let window = parseTimeWindow(text, ctx.now, ctx.timezone);
  if (window) {
    text = text.replace(window.phrase, " ");
  }

  // Environment: "in prod", "on staging", "prod jobs", "production".
  let environment: string | undefined;
  const envRe =
    /(?<![\w./-])(?:(?:in|on|for|at)\s+)?(prod|production|prd|staging|stage|stg|dev|development|qa|uat|(?<=(?:in|on)\s+)live)(?![\w/-]|\.\w)(?:\s+(?:env|environment))?/;
  const em = envRe.exec(text);
  if (
    em &&
    !/\b(?:vs|versus)\b/.test(text) &&
    !partOfName(text, em.index + em[0].indexOf(em[1]!), ctx.names)
  ) {
    environment = ENVIRONMENTS[em[1]!];
    text = text.replace(em[0], " ");
  }

  const tokens = words(text.replace(/\b(?:p50|p90|p95|p99)\b/g, " $& "));
  const mentions = ctx.names.find(tokens).filter((m) => !mentionIsJustVocabulary(m, tokens));
  const mentioned = new Set<number>();
  for (const m of mentions) for (let k = m.start; k < m.end; k++) mentioned.add(k);
  // Groups said loosely: "the finance jobs", "orders pipeline", "ml dags".
  const groupMention = !mentions.length ? looseGroup(tokens, ctx.names) : undefined;
  if (groupMention) mentioned.add(groupMention.at);
  // Cue text: the question without the names (a job called "daily_failures" is no cue).
  // One NAME per mention: "the last NAME run" reads the same for one-word and long names.
  const mentionStarts = new Set([
    ...mentions.map((m) => m.start),
    ...(groupMention ? [groupMention.at] : []),
  ]);
  // An environment's name stays a word for the cues: "prod vs dev" compares environments.
  const envWord = new Set(
    mentions
      .filter((m) => m.end - m.start === 1 && m.candidates.every((c) => c.kind === "environment"))
      .map((m) => m.start),
  );
  const cueText = tokens
    .flatMap((t, i) => (envWord.has(i) || !mentioned.has(i) ? [t] : mentionStarts.has(i) ? ["NAME"] : []))
    .join(" ");

  const scores = new Map<Measure, number>();
  const cueWords = new Set<string>();
  for (const c of CUES) {
    if (!c.re.test(cueText)) continue;
    scores.set(c.measure, (scores.get(c.measure) ?? 0) + c.weight);
    // Every cue word explains the question, not only the first found — but only words the cue
    // itself spells: a gap (".*" in "is .* failing") explains nothing ("is the qwerty job
    // failing" has not said which job).
    for (const m of cueText.matchAll(globalOf(c.re)))
      for (const [k, w] of m[0].split(/\s+/).entries())
        if (spelledBy(c.re, w) || needed(c.re, m[0], k)) cueWords.add(w);
  }
  adjust(scores, cueText);

  let measure: Measure | undefined;
  let best = 0;
  for (const [m, s] of scores)
    if (s > best) {
      best = s;
      measure = m;
    }

  // Subject: the mention whose kind the measure reads, else the strongest.
  const subjectCandidates = mentions.length
    ? mentions.flatMap((m) => m.candidates)
    : groupMention
      ? [groupMention]
      : [];
  let defaulted = false;
  const future =
    window !== undefined &&
    window.to.getTime() > ctx.now.getTime() &&
    window.from.getTime() >= ctx.now.getTime() - 60_000;
  // A window ahead of now asks what is planned: "tonight's runs", "will X run tomorrow".
  if (future && (!measure || ["runs", "status", "summary", "last_run"].includes(measure))) measure = "plan";
  // "how many pipelines in dev", "everything in prod", "what runs in qa": the environments measure.
  const listing =
    /^(?:(?:what|whats|what is|which|list|show)\b\s*)?(?:everything|all|jobs|pipelines|dags|what runs|runs|code|stuff)?\s*(?:exist|exists|live|are there|do we have|run|running|there|deployed)?$/;
  if (
    environment &&
    !mentions.length &&
    !groupMention &&
    !window &&
    (!measure || measure === "summary" || measure === "runs" || measure === "plan") &&
    (/\b(?:how many|count|number of|list|everything|what code|which)\b/.test(cueText) ||
      listing.test(cueText.trim())) &&
    !/\b(?:ran|failed|fail)\b/.test(cueText)
  )
    measure = "environments";
  // "is invoice_run in staging", "is dim_customers deployed in qa", "orders_daily jobs in dev":
  // where a named thing runs.
  if (
    environment &&
    (mentions.length || groupMention) &&
    !window &&
    /^(?:(?:is|are)\s+)?(?:the\s+)?NAME\s*(?:job|pipeline|dag)?\s*(?:deployed|running|live|present|there|yet|jobs|pipelines|dags)?\s*(?:yet|too|also|as well)?$|^(?:pipelines|jobs|dags|what runs) (?:for|of|owned by) NAME$/.test(
      cueText.trim(),
    )
  )
    measure = "environments";
  // "where does X run", "which envs is X deployed to".
  if (
    /\bwhere(?: does| do| is| are)? .*\b(?:run|runs|running|deploy|deployed|live)$|\b(?:which|what) env\w*\b/.test(
      cueText,
    )
  )
    measure = "environments";
  if (!measure) {
    const top = [...subjectCandidates].sort(
      (a, b) => DEFAULT_KINDS.indexOf(a.kind) - DEFAULT_KINDS.indexOf(b.kind) || b.score - a.score,
    )[0];
    measure = top ? DEFAULT_MEASURE[top.kind] : environment ? "status" : "summary";
    defaulted = true;
  }
  // "what's left to run today": the plan from now on.
  if (
    measure === "plan" &&
    window &&
    window.from < ctx.now &&
    window.to > ctx.now &&
    /\b(?:left|remaining|still|rest|yet)\b/.test(cueText)
  )
    window = { ...window, from: ctx.now, label: `${window.label}, from now on` };
  const picked = pickSubject(measure, mentions, groupMention, tokens, cueText, input.toLowerCase());
  let subject = picked.subject;
  let { others, ambiguous } = picked;
  let looseWord: string | undefined;
  // "the billing job", "did the load job run", "the sync": one job, said by a word of it.
  const oneJob = oneJobOf(subject, tokens, mentions, groupMention, ctx.names);
  if (oneJob) {
    looseWord = oneJob.word;
    if (oneJob.things.length === 1) {
      subject = oneJob.things[0]!;
      others = [];
    } else {
      // Several fit: offer them, never pick one.
      others = oneJob.things.slice(0, 3);
      subject = others.shift()!;
      ambiguous = true;
    }
  }
  // "the payments job", "clicks job ok?": a job, though a table is called payments — the job
  // whose own name has the words said (ask which when several have).
  const m0j = mentions[0];
  if (
    m0j &&
    !oneJob &&
    subject.kind !== "job" &&
    subject.kind !== "group" &&
    /^(?:job|dag|task)$/.test(tokens[m0j.end] ?? "")
  ) {
    const said = tokens.slice(m0j.start, m0j.end).map(stem);
    const jobs = ctx.names.names.filter((n) => {
      if (n.kind !== "job") return false;
      const own = words(n.name.slice(n.name.lastIndexOf(".") + 1)).map(stem);
      return said.every((w) => own.includes(w));
    });
    if (jobs.length) {
      others = jobs.slice(1, 3).map((n) => ({ kind: "job" as const, name: n.name }));
      subject = { kind: "job", name: jobs[0]!.name };
      ambiguous = jobs.length > 1;
    }
  }
  // "did the acme settlements file arrive", "did the dhl file arrive": deliveries are a
  // supplier's; the supplier whose name shares a word with what was said.
  // A supplier's own feed ("acme_payments/settlements") stays the subject.
  if (measure === "arrivals" && subject.kind !== "supplier" && !subject.name?.includes("/")) {
    const said = new Set(
      (mentions[0] ? tokens.slice(mentions[0].start, mentions[0].end) : tokens)
        .filter((t) => !STOP.has(t))
        .map(stem),
    );
    const suppliers = ctx.names.names.filter(
      (n) => n.kind === "supplier" && words(n.name).some((w) => w.length > 2 && said.has(stem(w))),
    );
    if (suppliers.length === 1) {
      others = subject.kind === "fleet" ? [] : [subject];
      subject = { kind: "supplier", name: suppliers[0]!.name };
      ambiguous = false;
    }
  }
  // "how late was shipfast", "is adnet late again": a supplier's name with lateness or
  // delivery words asks about its deliveries, not about the job that loads them.
  const supplier = mentions[0]?.candidates.find((c) => c.kind === "supplier");
  if (
    supplier &&
    subject.kind !== "supplier" &&
    !oneJob &&
    ["ended_late", "start_lateness", "status", "runs", "failures", "freshness"].includes(measure) &&
    /\b(?:late|later|on time|arriv\w*|deliver\w*|land\w*|come in|came in|files?|drops?|sen[dt]|sending|upload\w*|show(?:ed|n)? up|turn(?:ed)? up)\b/.test(
      cueText,
    ) &&
    !/\b(?:job|load|run|sync)\b/.test(cueText)
  ) {
    others = [subject, ...others.filter((o) => o.name !== supplier.name)].slice(0, 2);
    subject = { kind: "supplier", name: supplier.name };
  }
  // "@analytics" typed with its @ is that team, whatever else has analytics in its name.
  const at = /(?:^|[\s(])@([a-z0-9][\w-]*)/i.exec(input);
  const team =
    at &&
    ctx.names.names.find((n) => n.kind === "owner" && n.name.toLowerCase() === `@${at[1]!.toLowerCase()}`);
  if (team && !(subject.kind === "owner" && subject.name === team.name)) {
    others = [subject, ...others].filter((o) => o.kind !== "fleet").slice(0, 2);
    subject = { kind: "owner", name: team.name };
    ambiguous = false;
  }
  // "the telemetry jobs", "every telemetry job", "cpu for telemetry" when @telemetry is
  // also a team: a team is said with its @; without it, the word is the group's.
  const m0 = mentions[0];
  const typedAt = m0 ? new RegExp(`@${tokens[m0.start]}`, "i").test(input) : false;
  if (subject.kind === "owner" && m0 && !typedAt) {
    const w = tokens[m0.start]!.replace(/^@/, "");
    const groups = ctx.names.names.filter((n) => n.kind === "group" && words(n.name).includes(w));
    if (groups.length === 1) subject = { kind: "group", name: groups[0]!.name };
  }
  // "prod vs staging": the environments compared, across the fleet.
  if (measure === "environments" && subject.kind === "environment" && /\b(?:vs|versus)\b/.test(cueText)) {
    subject = { kind: "fleet" };
    others = [];
  }
  // "stg_clicks never ran?": whether that job ran, not the fleet's missed runs.
  if (
    measure === "missed" &&
    subject.kind === "job" &&
    /\b(?:never|not|didnt|hasnt)\s+(?:ran|run)\b/.test(cueText)
  )
    measure = "runs";
  // A supplier is asked about its deliveries; a test about its results.
  if (
    subject.kind === "supplier" &&
    ["status", "summary", "ended_late", "start_lateness", "runs", "failures"].includes(measure)
  )
    measure = "arrivals";
  if (
    subject.kind === "test" &&
    ["failures", "runs", "status", "failure_rate", "last_failure"].includes(measure)
  )
    measure = "tests";
  // Releases of a project are its tickets.
  if (measure === "deploys" && (subject.kind === "project" || /\bper project|by project\b/.test(cueText)))
    measure = "tickets";
  // An environment is where the fleet's runs are, not a subject of its own: "is staging
  // healthy", "jobs in dev" ask about the fleet in that environment (test/corpus/README.md).
  let envSlot = environment;
  if (subject.kind === "environment") {
    envSlot ??= subject.name;
    subject = { kind: "fleet" };
  }

  let frame: Frame = { measure, subject };
  if (window) frame.window = { from: window.from.toISOString(), to: window.to.toISOString() };
  if (envSlot) frame.environment = envSlot;
  decorate(frame, cueText, mentions, asks);

  // Confidence: the share of content words some slot explained.
  const content = tokens.filter((t, i) => !mentioned.has(i) && !STOP.has(t) && !/^\d+$/.test(t));
  const fits = SUPPORT[measure];
  const unused = content.filter(
    (t) =>
      !cueWords.has(t) &&
      !FILLER.has(t) &&
      !isGroupWord(t, groupMention) &&
      !fits?.test(t) &&
      t !== looseWord,
  );
  let confidence = content.length ? 1 - unused.length / Math.max(content.length, 2) : 1;
  if (defaulted && !subjectCandidates.length) confidence = Math.min(confidence, content.length ? 0.3 : 0.5);
  // "is the qwerty job failing": one thing was named and none was found — never answer for
  // the whole fleet instead.
  if (
    subject.kind === "fleet" &&
    tokens.some(
      (t, i) =>
        unused.includes(t) &&
        /^(?:job|dag|task|pipeline|table|dataset|model|feed|load|sync)$/.test(tokens[i + 1] ?? ""),
    )
  )
    confidence = Math.min(confidence, 0.4);
  let alternatives: Frame[] = others.map((s) => ({ ...frame, subject: s }));
  // "X last run time": when it last ran — and the last-run answer says how long it took
  // too, so whichever was meant is answered (every corpus writer read it as "when").
  if (
    measure === "duration" &&
    /\blast run time\b/.test(cueText) &&
    !/\b(?:how long|took|take)\b/.test(cueText)
  ) {
    const { stat: _stat, ...rest } = frame;
    frame = { ...rest, measure: "last_run" };
    alternatives = alternatives.map((a) => ({ ...a, measure: "last_run" }));
  }
  if (ambiguous) confidence = Math.min(confidence, 0.5);
  const out: Parsed = { frame, confidence, unused, alternatives, defaulted, subjectExact: picked.exact };
  if (ambiguous) out.ambiguous = true;
  if (window) out.window = window;
  return out;
}

/**
 * Words that fit a measure without naming it: once the cues chose the measure, these are
 * explained ("open incidents", "rows written", "schema changes", "next run").
 */
const SUPPORT: Partial<Record<Measure, RegExp>> = {
  runs: /^(?:ran|run|runs|go|went|happen\w*|hours?)$/,
  failures: /^(?:nothing|wht|what|any|everything|all|often|times|again)$/,
  missed: /^(?:hours?|should\w*|supposed|expected|didnt|not)$/,
  plan: /^(?:next|running|start\w*|big|when|due|later|tonight|tomorrow|time)$/,
  rows: /^(?:written|write|wrote|ingested|added|zero|synced|sync|load\w*|insert\w*|push\w*|produced|empty|volume)$/,
  arrivals: /^(?:late|source|files?|often|on|time|come|came|in|delivered|landed|drop\w*)$/,
  tests: /^(?:rate|ran|run|results?|passed|failed|warn\w*|green|red)$/,
  deploys: /^(?:last|kind|kinds|history|shipped|released|release\w*|out)$/,
  schema_changes:
    /^(?:chang\w*|added|add|history|diff|drift|unchanged|removed|remov\w*|renam\w*|retyp\w*|often|shape|new)$/,
  root_cause:
    /^(?:long|late|delay\w*|slow|problem|happen\w*|so|made|making|break|broke|broken|fail\w*|error\w*|stale)$/,
  incidents:
    /^(?:hook|page|paged|open|opened|resolved|assigned|wise|still|closed|who|acked|unacked|unacknowledged|active|handling|owned|owner|on)$/,
  troublesome: /^(?:lately|recently|often|trouble)$/,
  summary:
    /^(?:daily|review|message|night|day|go|went|things|stuff|sum|up|weekly|overall|before|standup|board|deck|know|mtd)$/,
  freshness: /^(?:dbt|sources?|data|numbers|current)$/,
  ended_late: /^(?:finish\w*|end\w*|complet\w*|done|wrap\w*|land\w*|late)$/,
  start_lateness: /^(?:start\w*|kick\w*|off|began|begin|late)$/,
  last_run: /^(?:sync\w*|load\w*|refresh\w*|run|ran|go|went|trigger\w*)$/,
  tickets: /^(?:project|projects|released|shipped)$/,
  cost: /^(?:cloud|usage|compute|spike\w*|bill)$/,
  resources: /^(?:peak|usage|using|use|used|more|spike\w*|hog\w*|consum\w*|footprint)$/,
  duration: /^(?:last|long|took|take|run)$/,
  failure_rate: /^(?:tbh|runs?)$/,
  environments: /^(?:exist\w*|live|lives|deployed|deploy|there|running|run|runs|yet|present|have|code)$/,
  upstream: /^(?:read\w*|from|inputs?|sources?|feeds?|come|comes|depend\w*|before|chain|deep|levels?|hops?)$/,
  downstream:
    /^(?:stale|late|wrong|down|broken|fail\w*|delayed|use[sd]?|reads?|after|chain|deep|levels?|hops?|else)$/,
  owner: /^(?:team|contact|ping|responsible)$/,
  bad_records: /^(?:many|count|rate|share|load\w*|ingest\w*)$/,
  sla: /^(?:data|our|we|hit|meet|met|target\w*|percent\w*|rate|time|on|within|inside|do|did)$/,
  deploy_impact: /^(?:last|latest|recent|deploy\w*|release\w*|rollout\w*|new|version|since|after)$/,
  refresh_history: /^(?:show|list|history|times?|rows|gaps?|when|updates?|refresh\w*|data)$/,
  anomalies: /^(?:duration|rows?|volume|cpu|memory|runtime|cost|any|detected|flagged|spotted)$/,
};

/** Words that carry no meaning of their own in these questions. */
const FILLER = new Set([
  // Chatter around a question: "can someone tell me whether…", "cfo is asking", "thx".
  "someone",
  "somebody",
  "anybody",
  "tell",
  "whether",
  "asking",
  "asked",
  "cfo",
  "ceo",
  "boss",
  "quick",
  "standup",
  "thx",
  "thanks",
  "ty",
  "offline",
  "online",
  "got",
  "been",
  "hey",
  "hi",
  "hello",
  "morning",
  "folks",
  "guys",
  "analyse",
  "analyze",
  "planning",
  "seeing",
  "weird",
  "looks",
  "off",
  "need",
  "rerun",
  "lately",
  "recently",
  "abt",
  "gimme",
  "rn",
  "pto",
  "back",
  "wondering",
  "help",
  "urgent",
  "asap",
  "fyi",
  "pull",
  "job",
  "jobs",
  "pipeline",
  "pipelines",
  "data",
  "dataset",
  "datasets",
  "table",
  "tables",
  "model",
  "many",
  "much",
  "number",
  "count",
  "times",
  "time",
  "today",
  "day",
  "days",
  "week",
  "month",
  "again",
  "yet",
  "already",
  "actually",
  "happen",
  "fine",
  "group",
  "task",
  "tasks",
  "dag",
  "dags",
  "etl",
  "environment",
  "env",
  "team",
  "total",
  "overall",
  "across",
  "everything",
  "everyone",
  "fleet",
  "did",
  "go",
  "went",
  "anyone",
  "somebody",
  "ones",
  "any",
  "latest",
  "recent",
  "info",
  "details",
  "report",
  "result",
  "results",
  "numbers",
  "stats",
  "statistics",
  "breakdown",
  "per",
  "by",
  "top",
  "most",
  "least",
  "biggest",
  "highest",
  "lowest",
  "usual",
  "normal",
  "usually",
  "normally",
  "typically",
  "typical",
  "average",
  "avg",
  "max",
  "maximum",
  "min",
  "minimum",
  "expected",
  "right",
  "correct",
  "successfully",
]);

function isGroupWord(t: string, g: NameCandidate | undefined): boolean {
  return !!g && words(g.name).includes(t);
}

/** A one-word "mention" that is really a question word ("failed", "rate", "status") is no name. */
function mentionIsJustVocabulary(m: Mention, tokens: string[]): boolean {
  if (m.end - m.start !== 1) return false;
  const w = tokens[m.start]!;
  // Only a whole full name ("tickets" when a dataset is called exactly that) stays a name.
  if (m.candidates.some((c) => c.whole && c.score >= 0.99)) return false;
  if (w.length < 5) return true;
  return (
    VOCABULARY.includes(w) ||
    STOP.has(w) ||
    FILLER.has(w) ||
    CUES.some((c) => c.re.test(w)) ||
    // A word that fits a measure ("usage", "spike") is that, not a part of a name.
    (m.candidates.every((c) => !c.whole) && Object.values(SUPPORT).some((re) => re.test(w)))
  );
}

/** "the finance jobs", "orders pipeline": a group by the first word of its name, before a group word. */
function looseGroup(tokens: string[], names: NameIndex): (NameCandidate & { at: number }) | undefined {
  const groups = names.names.filter((n) => n.kind === "group");
  for (let i = 0; i < tokens.length; i++) {
    // "the finance jobs", or "everything in billing" (a group's first word after in / for / of).
    const before = /^(?:jobs?|pipelines?|dags?|group|team|stuff|tasks?|models?|loads?|workflows?)$/.test(
      tokens[i + 1] ?? "",
    );
    const after = /^(?:in|for|of|from)$/.test(tokens[i - 1] ?? "") && (tokens[i]?.length ?? 0) >= 4;
    if (!before && !after) continue;
    const w = tokens[i]!;
    if (w.length < 2 || STOP.has(w)) continue;
    const hits = groups.filter((g) => {
      const first = words(g.name)[0]!;
      return first === w || (w.length >= 5 && editDistance(first, w, 1) <= 1);
    });
    if (hits.length === 1) return { ...hits[0]!, score: 0.8, whole: false, exact: false, at: i };
  }
  return undefined;
}

const KIND_WEIGHT = 1.5;
const JOB_NOUN = /^(?:job|dag|task|pipeline|process|script|load|sync|refresh|run)$/;
const NOT_ONE = new Set(["which", "what", "each", "every", "any", "a", "one", "per", "all", "no", "some"]);

/**
 * A single job said loosely: "the billing job" (a job of the group billing_nightly), "the
 * load job", "the sync" (the one job whose own name holds that word). Returns the jobs that
 * fit — one is an answer, several a question back — or undefined when the words say more
 * ("which billing job", "the billing jobs", a name said in full).
 */
function oneJobOf(
  subject: Subject,
  tokens: string[],
  mentions: Mention[],
  groupMention: (NameCandidate & { at: number }) | undefined,
  names: NameIndex,
): { things: Subject[]; word: string } | undefined {
  const jobsOfGroup = (g: string) =>
    names.names.filter((n) => n.kind === "job" && n.name.startsWith(`${g}.`)).map((n) => n.name);
  const asJobs = (list: string[]) => list.map((name) => ({ kind: "job" as const, name }));
  const singularAfter = (end: number) => /^(?:job|dag|task)$/.test(tokens[end] ?? "");
  const startsOne = (start: number) => start === 0 || !NOT_ONE.has(tokens[start - 1]!);
  if (subject.kind === "group") {
    const m = mentions[0];
    const [start, end] = m
      ? [m.start, m.end]
      : groupMention
        ? [groupMention.at, groupMention.at + 1]
        : [-1, -1];
    if (start < 0 || !singularAfter(end) || !startsOne(start)) return undefined;
    const jobs = jobsOfGroup(subject.name!);
    return jobs.length ? { things: asJobs(jobs), word: tokens[start]! } : undefined;
  }
  // An owner's name said before "job" or "table" is a word of a job's or a table's name
  // ("the telemetry table" when @telemetry is also a team).
  const ownerWord =
    subject.kind === "owner" &&
    mentions.length === 1 &&
    mentions[0]!.end - mentions[0]!.start === 1 &&
    /^(?:job|dag|task|table|data|dataset)$/.test(tokens[mentions[0]!.end] ?? "");
  if (!ownerWord && (subject.kind !== "fleet" || mentions.length || groupMention)) return undefined;
  const has = (name: string, w: string) => words(name).some((x) => stem(x) === stem(w));
  for (let i = 0; i < tokens.length; i++) {
    const w = tokens[i]!;
    if (w.length < 2 || STOP.has(w) || FILLER.has(w) || CUES.some((c) => c.re.test(w))) continue;
    const next = tokens[i + 1] ?? "";
    // "the telemetry table", "the fx rates data": one dataset.
    if (/^(?:table|data|dataset)$/.test(next) && startsOne(i)) {
      const sets = names.names.filter((n) => n.kind === "dataset" && has(n.name, w));
      if (sets.length)
        return { things: sets.map((n) => ({ kind: "dataset" as const, name: n.name })), word: w };
    }
    // "the load job", "the kpis dag"; or "the sync" alone, followed by what is asked.
    const saysJob =
      /^(?:job|dag|task|pipeline|process|script|thing)$/.test(next) ||
      (tokens[i - 1] === "the" && i + 1 < tokens.length && !JOB_NOUN.test(next));
    if (!saysJob || !startsOne(i)) continue;
    const jobs = names.names
      .filter((n) => n.kind === "job" && has(n.name.slice(n.name.lastIndexOf(".") + 1), w))
      .map((n) => n.name);
    // "the reporting job": a job of the group that word names — also when one job's own
    // name has the word ("the sync job": chargeback_sync, or any job of crm_sync).
    const groups = names.names.filter((n) => n.kind === "group" && has(n.name, w));
    const ofGroups = groups.flatMap((g) => jobsOfGroup(g.name));
    const all = [...new Set([...jobs, ...ofGroups])];
    if (all.length) return { things: asJobs(all), word: w };
  }
  return undefined;
}

/** True when `a` is `b` with an environment word added ("fct_orders_staging" of "fct_orders"). */
function envVariant(a: string, b: string): boolean {
  const ENV = /^(?:staging|dev|qa|prod|production|uat)$/;
  const wa = words(a);
  const plain = (ws: string[]) => ws.filter((w) => !ENV.test(w)).join(" ");
  return wa.length === words(b).length + 1 && wa.some((w) => ENV.test(w)) && plain(wa) === plain(words(b));
}

function pickSubject(
  measure: Measure,
  mentions: Mention[],
  groupMention: NameCandidate | undefined,
  tokens: string[],
  cueText: string,
  typed: string,
): { subject: Subject; others: Subject[]; ambiguous: boolean; exact: boolean } {
  const kinds = KINDS_FOR[measure] ?? DEFAULT_KINDS;
  const rank = (c: NameCandidate) => {
    const k = kinds.indexOf(c.kind);
    return (k < 0 ? 10 : k) * KIND_WEIGHT - c.score * 2 - (c.whole ? 0.5 : 0);
  };
  // The first mention is the subject; ordering's "after all of G" is the second (decorate()).
  // The first mention is the subject — unless it is one word of a name and a later one names
  // something whole ("cpu usage of model retrain": model_retrain, not fuel_usage).
  const whole = (m: Mention) => m.candidates.some((c) => c.whole);
  const primary =
    mentions[0] && !whole(mentions[0]) && measure !== "ordering"
      ? (mentions.find(whole) ?? mentions[0])
      : mentions[0];
  if (!primary) {
    if (groupMention)
      return {
        subject: { kind: "group", name: groupMention.name },
        others: [],
        ambiguous: false,
        exact: false,
      };
    // "which environments", "in prod vs dev" are about the fleet.
    return { subject: { kind: "fleet" }, others: [], ambiguous: false, exact: true };
  }
  // "… data" / "… table" right after the name point at a dataset; "… job" / "… dag" at a job.
  const next = tokens[primary.end] ?? "";
  // "why is dim_customers stale": staleness is the data's, whatever job has the same name.
  const saysData =
    /^(?:data|dataset|table|tables|extract|file|files|feed)$/.test(next) ||
    /\b(?:stale|staleness|fresh|freshness|up to date|outdated|out of date)\b/.test(cueText);
  const saysJob = /^(?:job|dag|task|load|run|runs|sync|refresh)$/.test(next);
  // "the telemetry jobs": several jobs, a group's.
  const saysGroup = /^(?:jobs|pipelines|dags)$/.test(next);
  // "finance close" names the group, not (partly) each of its jobs.
  const wholeGroups = primary.candidates.filter((c) => c.kind === "group" && c.whole);
  // A name typed as the store spells it ("risk.transaction_scores") beats names the same
  // words only partly fit, of whatever kind (the job score_transactions).
  const typedWhole = primary.candidates.some(
    (c) => c.whole && /[._/]/.test(c.name) && typed.includes(c.name.toLowerCase()),
  );
  const fitting = primary.candidates.filter(
    (c) =>
      !(c.kind === "job" && !c.whole && wholeGroups.some((g) => c.name.startsWith(`${g.name}.`))) &&
      !(typedWhole && !c.whole),
  );
  const cands = [...fitting].sort((a, b) => {
    const bias = (c: NameCandidate) =>
      (saysData && c.kind === "dataset" ? -1.5 : 0) +
      (saysJob && c.kind === "job" ? -1.5 : 0) +
      (saysGroup && c.kind === "group" ? -1.5 : 0);
    return rank(a) + bias(a) - (rank(b) + bias(b));
  });
  const top = cands[0]!;
  const subject: Subject = { kind: top.kind, name: top.name };
  // Two names of the kind the measure reads that fit the words equally: ask which.
  const rivals = cands.filter(
    (c) =>
      c !== top &&
      c.kind === top.kind &&
      // Equally good, or both only partly named ("finance" of finance.invoices and finance.ar_aging).
      ((Math.abs(c.score - top.score) < 0.05 && c.whole === top.whole) || (!top.whole && !c.whole)) &&
      // exec_kpis_staging is exec_kpis's copy in another environment, no rival to it.
      !envVariant(c.name, top.name),
  );
  const others = cands
    .filter((c) => c !== top)
    .slice(0, 2)
    .map((c) => ({ kind: c.kind, name: c.name }));
  return { subject, others, ambiguous: rivals.length > 0, exact: top.exact };
}

/** Cue interactions that plain sums get wrong. */
function adjust(scores: Map<Measure, number>, t: string): void {
  const has = (m: Measure) => scores.has(m);
  const bump = (m: Measure, by: number) => scores.set(m, (scores.get(m) ?? 0) + by);
  const drop = (m: Measure) => scores.delete(m);
  // "cost by environment", "runs per env": the other measure, split by environment.
  if (
    has("environments") &&
    [...scores.keys()].some((m) => !["environments", "status", "summary"].includes(m)) &&
    !/\b(?:pipelines?|jobs?|dags?|code)\b.*\b(?:per|by|each|in)\b/.test(t)
  )
    drop("environments");
  // "run" appears in most questions: it decides only when nothing more specific does.
  if (has("runs") && [...scores.keys()].some((m) => m !== "runs" && m !== "status")) drop("runs");
  // "how many failed" / "what failed" are failures, not runs or status.
  if (
    has("failures") &&
    has("status") &&
    !/\b(?:now|currently|right now)\b|^(?:is|are)\b|^NAME (?:broken|down|failing|stuck|dead)\b/.test(t)
  )
    drop("status");
  // "failure rate" beats "failures"; "most failures" is troublesome.
  if (has("failure_rate")) drop("failures");
  if (has("troublesome")) {
    drop("failures");
    if (!/\bhow (?:reliable|flaky|stable|often)\b|\b(?:fail\w*|error|success) (?:rate|ratio)\b/.test(t))
      drop("failure_rate");
  }
  // "last failure" / "last success" / "last run" beat the general forms.
  for (const m of ["last_failure", "last_success", "last_run"] as const)
    if (has(m)) {
      drop("failures");
      drop("runs");
    }
  if (has("last_failure") || has("last_success")) drop("last_run");
  // "started late or ran long" is a root cause question.
  if (has("root_cause") && has("start_lateness")) drop("start_lateness");
  if (has("root_cause")) {
    drop("duration");
    drop("ended_late");
    drop("failures");
  }
  // "late because of something upstream", "upstream issue or slow run?": the cause, not the lineage.
  if (has("root_cause")) {
    drop("upstream");
    drop("downstream");
  }
  // "which jobs use the most cpu": a figure, not who reads what.
  for (const m of ["cost", "resources", "rows", "duration"] as const)
    if (has(m) && has("downstream") && !/\bdownstream\b/.test(t)) drop("downstream");
  // "who do i ping about X being stale": the owner, whatever the trouble is.
  if (has("owner") && /\bwho\b/.test(t))
    for (const m of ["freshness", "failures", "status", "summary", "runs"] as const) drop(m);
  if (has("bad_records")) {
    drop("rows");
    drop("failures");
  }
  // "did failures start after the deploy": the deploy's effect, not a list of either.
  if (has("deploy_impact"))
    for (const m of [
      "deploys",
      "failures",
      "failure_rate",
      "runs",
      "status",
      "troublesome",
      "root_cause",
    ] as const)
      drop(m);
  // "refresh history of X", "last 5 updates of X": the updates themselves, not the age.
  if (has("refresh_history"))
    for (const m of ["freshness", "last_run", "runs", "rows", "plan", "status", "schema_changes"] as const)
      drop(m);
  // "did we meet our data SLAs", "sla breaches this week": the SLA figures as a whole.
  if (has("sla"))
    for (const m of [
      "freshness",
      "missed",
      "arrivals",
      "start_lateness",
      "ended_late",
      "summary",
      "status",
      "runs",
      "incidents",
    ] as const)
      drop(m);
  // "any duration anomalies", "volume drop on X": the anomaly scores.
  if (has("anomalies"))
    for (const m of ["duration", "rows", "resources", "summary", "status", "cost", "failures"] as const)
      drop(m);
  // "did X run after everything in G" is ordering, not runs or missed.
  if (has("ordering")) {
    drop("missed");
    drop("runs");
  }
  // "how long … usually": duration beats the "usually" of other cues.
  if (has("duration") && has("status")) drop("status");
  // Cost / resources / rows are figures of runs: their own measure wins.
  // "time spent": run time, not money.
  if (has("duration") && has("cost") && /\btime spent\b/.test(t)) drop("cost");
  for (const m of ["cost", "resources", "rows"] as const)
    if (has(m)) {
      drop("runs");
      drop("duration");
      drop("status");
    }
  // Deploy words with "failed": failed deploys are deploys.
  if (has("deploys")) {
    drop("failures");
    drop("runs");
    drop("status");
  }
  if (has("tests")) {
    drop("failures");
    drop("status");
    drop("runs");
  }
  if (has("tickets")) drop("deploys");
  // "deploys per environment" counts deploys, by environment.
  if (has("deploys")) drop("environments");
  if (has("arrivals")) {
    drop("runs");
    drop("freshness");
  }
  if (has("schema_changes")) {
    drop("freshness");
    drop("deploys");
  }
  if (has("incidents")) {
    drop("status");
    drop("failures");
    drop("owner");
  }
  if (has("summary")) {
    drop("runs");
    drop("status");
    drop("failures");
  }
  if (has("plan")) {
    drop("runs");
    drop("status");
  }
  if (has("missed")) {
    drop("runs");
    drop("failures");
  }
  if (has("ended_late")) drop("duration");
  if (has("environments")) {
    drop("runs");
    drop("status");
    drop("summary");
  }
  if (has("freshness") && has("status")) drop("status");
  if (has("start_lateness")) {
    drop("runs");
    drop("status");
  }
  // "is X broken", "what's failing right now": the state now, not a count of failures.
  if (has("status") && has("failures") && /^(?:is|are)\b|\b(?:now|currently|right now)\b/.test(t))
    drop("failures");
  // "which suppliers were late": arrivals, whatever "late" says.
  if (has("arrivals") && !has("rows")) {
    drop("ended_late");
    drop("start_lateness");
  }
  if (has("rows")) drop("arrivals");
  // "when was X last updated": freshness of data, not the last run of a job.
  // "when was X last refreshed" (the data was): freshness; "when did X last refresh" (the job did): its run.
  if (has("freshness") && has("last_run") && /\b(?:updated|update|refreshed|new data|loaded)\b/.test(t))
    drop("last_run");
  if (/\b(?:status|state)\b/.test(t)) drop("freshness");
  // "how flaky is X" is its failure rate; "which is the flakiest" is troublesome.
  if (has("failure_rate") && /\bhow (?:reliable|flaky|stable|often)\b/.test(t)) drop("troublesome");
  // "failure rate" said outright is the rate, whatever "worst" says.
  if (has("failure_rate") && /\b(?:fail\w*|error|success) (?:rate|ratio)\b/.test(t)) drop("troublesome");
  // "when was X last deployed": the deploys, not the last run.
  if (has("deploys")) drop("last_run");
  // "time spent": run time, not money.
  if (has("duration") && has("cost") && /\btime spent\b/.test(t)) drop("cost");
  // "which tests failed the most": data tests, ranked.
  if (has("tests") && has("troublesome") && /\btests?\b/.test(t)) drop("troublesome");
  // "why does X keep failing": the cause, not a ranking.
  if (has("root_cause") && /^why\b/.test(t)) drop("troublesome");
  // "last run w/o errors": a success.
  if (has("last_success") && /\b(?:without|w\/o|with no|no) errors\b|\bcleanly\b|\bsuccessfully\b/.test(t))
    drop("last_failure");
  // "rows the last sync wrote", "cost of the last run": the figure, of the last run.
  for (const m of ["rows", "cost", "resources", "duration"] as const) if (has(m)) drop("last_run");
  // "status check": the state, not data tests.
  if (has("tests") && /\bstatus\b/.test(t) && !/\b(?:tests?|dq|quality|assertions?|expectations?)\b/.test(t))
    drop("tests");
  // "which supplier gives us the most trouble": troublesome suppliers.
  if (has("troublesome") && has("arrivals") && /\btrouble/.test(t)) drop("arrivals");
  // "show me every X run": a list of runs, not "did every run happen".
  if (has("missed") && /^(?:show|list|give)\b/.test(t) && !/\b(?:miss|no[- ]?show|skip|never)/.test(t)) {
    drop("missed");
    bump("runs", 2);
  }

  // "runs by status" counts runs, split by their status.
  if (has("runs") && /\bby status\b/.test(t)) drop("status");
  // "how long did X take last time": the last run's duration, not when it ran.
  if (has("duration") && has("last_run") && /\b(?:how long|take|took|taken|runtime|duration)\b/.test(t))
    drop("last_run");
  // "cost by environment", "failures per env": the other measure, split by environment.

  // "which supplier was late most often": arrivals ranked, not troublesome.
  if (has("arrivals") && has("troublesome") && /\blate\b/.test(t)) drop("troublesome");
  // "which jobs did not run" / "anything not run": missed runs.
  if (/\b(?:what|which|anything|any)\b.*\bnot run\b/.test(t)) bump("missed", 5);
}

/**
 * True when Yes to this yes/no question means the measure's thing did not happen: "did every
 * job run?" (no missed runs), "did nothing fail?", "is X stale?", "did X start on time?",
 * "are all incidents resolved?", "schema unchanged?", "is X broken?".
 */
function absentCue(measure: Measure, t: string): boolean {
  switch (measure) {
    case "bad_records":
      return /\b(?:no|none|zero|nothing|clean|without)\b/.test(t);
    case "missed":
      return (
        (/\b(?:every|all|everything|each)\b/.test(t) && !/\b(?:miss|missed|missing|skipped)\b/.test(t)) ||
        /\b(?:nothing|none|no)\b.*\bmiss/.test(t)
      );
    case "failures":
      return (
        /\b(?:nothing|none|no)\b.*\b(?:fail|failed|failures|broke|error)/.test(t) ||
        /\b(?:all|every|everything)\b.*\b(?:succeed\w*|pass\w*|ok|green|fine)\b/.test(t)
      );
    case "runs":
      return /\b(?:not|never|skip\w*)\b/.test(t);
    case "freshness":
      return /\b(?:stale|out of date|outdated|old|behind|lagging|lag|late|not fresh|not updated)\b/.test(t);
    case "status":
      return /\b(?:broken|failing|stuck|down|red|hung|dead|erroring|not ok|not working)\b/.test(t);
    case "start_lateness":
    case "ended_late":
    case "arrivals":
      return /\b(?:on time|in time|on schedule)\b/.test(t) && measure !== "arrivals";
    case "rows":
      return /\b(?:0|zero|no|empty|nothing)\b/.test(t);
    case "ordering":
      return /\bbefore\b/.test(t) && !/\bafter\b/.test(t);
    case "incidents":
      return /\b(?:resolved|closed|all clear|quiet)\b/.test(t);
    case "schema_changes":
      return /\b(?:unchanged|no changes?|same|stable)\b|\bno\b.*\bchanges?\b/.test(t);
    case "deploys":
    case "tests":
      return /\b(?:nothing|none|no)\b.*\bfail/.test(t);
    default:
      return /\b(?:not|never)\b/.test(t);
  }
}

// Words that rank: superlatives and "top N". "latest" ranks only start times ("started latest").
const RANKING =
  /\b(?:top|worst|best|most|least|biggest|largest|slowest|fastest|quickest|longest|shortest|highest|lowest|flakiest|costliest|priciest|cheapest|fewest|hogs?|consumers?)\b/;
// Ranking words that ask for the low end; reliability words turn the scale over.
const LEAST = /\b(?:least|lowest|fastest|quickest|shortest|best|fewest|cheapest)\b/;
const NUMBERED =
  /\b(?:top|worst|best|slowest|fastest|quickest|longest|shortest|biggest|largest|latest|flakiest|costliest|which|most|least)\s+(\d+)\b|\b(\d+)\s+(?:worst|best|slowest|fastest|quickest|longest|shortest|most|least|biggest|largest|top|latest|flakiest|costliest|jobs|pipelines|groups|suppliers|dags|tables|datasets)\b|\btop\s+(\d+)\b/;
// What is ranked: one thing ("which job", "flakiest job") or several ("jobs").
const RANKED_ONE = /\b(?:job|group|supplier|thing|pipeline|dag|dataset|table|test|one|team|owner|project)\b/;
const RANKED_MANY =
  /\b(?:jobs|groups|suppliers|things|pipelines|dags|datasets|tables|tests|ones|teams|owners|projects)\b/;

/** "which 3 jobs fail the most", "flakiest job", "most reliable jobs": order and how many. */
function decorateRank(frame: Frame, t: string): void {
  if (!["fleet", "group", "environment", "owner"].includes(frame.subject.kind)) return;
  // "most recent" ranks nothing; "latest" ranks only start times ("started latest").
  const r = t.replace(/\bmost recent\b/g, " ");
  const startsLate =
    (frame.measure === "start_lateness" || frame.measure === "ended_late") && /\blatest\b/.test(r);
  if (!RANKING.test(r) && !startsLate) return;
  let order: "most" | "least" = LEAST.test(r) ? "least" : "most";
  // "most reliable" ranks from the least troublesome; "least reliable" from the most.
  if (frame.measure === "troublesome" && /\b(?:reliable|stable|dependable|solid)\b/.test(t))
    order = /\b(?:least|less|un\w+)\b/.test(t) ? "most" : "least";
  frame.rank = { order };
  const n = NUMBERED.exec(r);
  if (n) frame.rank.n = Number(n[1] ?? n[2] ?? n[3]);
  else if (RANKED_ONE.test(r) && !RANKED_MANY.test(r)) frame.rank.n = 1;
}

/** "per environment", "for each crm sync job", "which group", "daily failure rate", "pass/fail". */
function decorateGroupBy(frame: Frame, t: string): void {
  const by =
    /\b(?:per|by|each|for each|for every|broken down by|split by|grouped by)\s+(?:\w+\s+){0,3}?(env(?:ironment)?s?|group|groups|pipeline|job|jobs|kind|type|day|days|project|projects|supplier|suppliers|status)\b/.exec(
      t,
    ) ?? /\bevery\s+(env(?:ironment)?|group|day|project|supplier)\b/.exec(t);
  if (by) {
    const w = by[1]!;
    frame.groupBy = /^env/.test(w)
      ? "environment"
      : /^(?:group|groups|pipeline)$/.test(w)
        ? "group"
        : /^jobs?$/.test(w)
          ? "job"
          : /^(?:kind|type)$/.test(w)
            ? "kind"
            : /^days?$/.test(w)
              ? "day"
              : /^projects?$/.test(w)
                ? "project"
                : /^suppliers?$/.test(w)
                  ? "supplier"
                  : "status";
    return;
  }
  if (/\b(?:env|environment) breakdown\b|\bbreakdown by env/.test(t)) frame.groupBy = "environment";
  // Ranking groups: "which group took the longest", "worst group", "top 3 groups by cpu".
  else if (
    frame.rank &&
    frame.subject.kind === "fleet" &&
    /\b(?:which|worst|best|top|least|most|\d+)\s+(?:\w+\s+)?groups?\b/.test(t)
  )
    frame.groupBy = "group";
  else if (
    /\b(?:daily|day by day|each day|per day|over time|trend(?:ing)?|by day|every day|day over day)\b/.test(
      t,
    ) &&
    !/\bdaily\s+(?:job|run|pipeline|load)\b/.test(t) &&
    ["failure_rate", "tests", "failures", "cost", "resources", "rows", "runs", "duration"].includes(
      frame.measure,
    )
  )
    frame.groupBy = "day";
  else if (frame.measure === "tests" && /\bpass\w*\b.*\bfail\w*\b.*\bwarn\w*|\bpass\w*\W+fail\w*/.test(t))
    frame.groupBy = "status";
  else if (
    frame.measure === "deploys" &&
    (t.match(/\b(?:pipelines?|models?|dashboards?|code|schemas?)\b/g) ?? []).length >= 2
  )
    frame.groupBy = "kind";
  else if (
    frame.measure === "environments" &&
    frame.subject.kind === "fleet" &&
    /\b(?:vs|versus)\b|\b(?:which|what|each) env\w*\b/.test(t)
  )
    frame.groupBy = "environment";
  else if (frame.measure === "troublesome" && frame.subject.kind === "fleet" && /\bsuppliers?\b/.test(t))
    frame.groupBy = "supplier";
}

const CHATTER_OPENING =
  /^(?:(?:hey|hi|hello|yo|ok|okay|so|quick q|quick question|qq|q|pls|please|houston|um|hmm|ugh|btw|fyi|sorry|morning|gm|team|folks|all|also|and|but|anyway|real quick|question)\s+)+/;

function decorate(frame: Frame, t: string, mentions: Mention[], asks: boolean): void {
  // Yes/no questions: which answer means Yes. A question mark without a wh-word is one too
  // ("gl_summary ran today?").
  // Greetings and chatter before the question do not change what kind of question it is.
  t = t.replace(CHATTER_OPENING, "");
  const yesNo =
    // "nothing failed since monday right", "gl summary ran or nah": a statement to confirm.
    /\b(?:right|correct|yeah|yes|no|or nah|or not|innit|true)\s*$/.test(t) ||
    /^(?:did|does|do|is|are|was|were|has|have|had|any|anything|can|will|should|were there|is there|are there)\b/.test(
      t,
    ) ||
    /\b(?:any|anything)\b/.test(t.split(" ").slice(0, 3).join(" ")) ||
    (asks && !/\b(?:what|which|who|when|where|why|how|list|show)\b/.test(t)) ||
    // "on tuesday did X run", "yesterday is X ok": the auxiliary after a leading phrase.
    (/^(?:\w+\s+){1,2}(?:did|does|is|are|was|were|has|have)\s+NAME\b/.test(t) &&
      !/^(?:how|what|whats|when|which|who|why|where)\b/.test(t)) ||
    // "revenue rec ok", "gl summary broken": a name and a state.
    (frame.measure === "status" &&
      /^NAME\s+(?:ok|okay|fine|healthy|alright|green|broken|failing|down|good)$/.test(t));
  // "numbers look old to me, is that data fresh or not": the question is the last clause
  // that asks; what comes before it is context.
  const asked = [
    ...t.matchAll(/\b(?:is|are|was|were|did|does|has|have)\s+(?:that|it|this|the|they|NAME)\b/g),
  ].pop();
  const clause = asked && asked.index > 0 ? t.slice(asked.index) : t;
  if (yesNo) frame.polarity = absentCue(frame.measure, clause) ? "absent" : "present";
  // Figures of one run ("the last X run", "took last time"): the last run's figure.
  const figure = ["duration", "cost", "resources", "rows"].includes(frame.measure);
  if (
    figure &&
    (/\b(?:last|latest|most recent|previous)\s+(?:NAME\s+)?(?:run|runtime|duration|time|execution|load)\b|\b(?:the )?last NAME\b/.test(
      t,
    ) ||
      /\b(?:take|took|use|used|cost)\b.*\blast (?:time|run)\b/.test(t))
  )
    frame.stat = "last";
  else {
    if (/\b(?:p95|95th|95 percentile|p 95)\b/.test(t)) frame.stat = "p95";
    else if (
      /\b(?:longest|max|maximum|slowest|worst case|peak)\b/.test(t) ||
      (figure && /\b(?:single|one)\b.*\b(?:run|execution)\b/.test(t))
    )
      frame.stat = "max";
    else if (
      /\b(?:longer|slower|shorter|faster|than usual|than normal|than average|compared|unusual(?:ly)?|abnormal(?:ly)?|out of the ordinary)\b/.test(
        t,
      ) ||
      /\b(?:vs|versus|against)\s+(?:the\s+)?(?:usual|normal|average|typical|baseline)\b/.test(t) ||
      /\bspik\w*\b/.test(t)
    )
      frame.stat = "vs_usual";
    else if (
      /\b(?:usually|normally|typically|typical|usual|normal|average|avg|median|p50|on average|expected)\b/.test(
        t,
      )
    )
      frame.stat = "median";
    else if (/\b(?:total|in total|altogether|combined|sum)\b/.test(t)) frame.stat = "total";
  }
  // "cpu anomalies", "outliers in memory": only that figure's series.
  if (frame.measure === "anomalies" && /\b(?:cpu|mem\w*|ram)\b/.test(t))
    frame.figure = /\b(?:mem\w*|ram)\b/.test(t) ? "memory" : "cpu";
  if (frame.measure === "resources")
    frame.figure = /\b(?:mem\w*|ram|oom|heap|gb|mb)\b/.test(t) && !/\bcpu\b/.test(t) ? "memory" : "cpu";
  decorateRank(frame, t);
  // "the last 5 updates of X": how many of the latest.
  const latest = /\b(\d+)\s+(?:updates|refreshes|loads)\b/.exec(t);
  if (frame.measure === "refresh_history" && latest) frame.rank = { order: "most", n: Number(latest[1]) };
  decorateGroupBy(frame, t);
  if (frame.measure === "ordering" && mentions.length >= 2) {
    // "after everything in G" is a group; "after X" a job before anything else of that name.
    const all = /\b(?:all|every|everything|each|the rest|whole|entire|completely|group)\b/.test(t);
    const order: SubjectKind[] = all ? ["group", "job", "dataset"] : ["job", "group", "dataset"];
    // A name said whole beats one only partly said ("after the crm sync": the group crm_sync).
    const all2 = mentions[1]!.candidates;
    const cands = all2.some((c) => c.whole && order.includes(c.kind)) ? all2.filter((c) => c.whole) : all2;
    const second = order.map((k) => cands.find((c) => c.kind === k)).find(Boolean) ?? cands[0]!;
    frame.against = { kind: second.kind, name: second.name };
    if (all) frame.against.all = true;
  }
}

/** Words of a follow-up that name nothing: "and the finance one". */
const FOLLOW_UP_WORDS = new Set([
  "and",
  "also",
  "what",
  "about",
  "how",
  "same",
  "for",
  "one",
  "ones",
  "then",
  "just",
  "only",
]);

/** Words that open a follow-up: "and in staging?", "what about yesterday", "same for build_ledger". */
const FOLLOW_UP_OPENER =
  /^(?:and|also|ok and|okay and|what about|how about|same for|same but|now|just|only|then|too|what of|and for|and what about|but)\b/;

/**
 * Reads a short follow-up in a conversation as a change to one slot of the previous frame:
 * the time ("and yesterday?"), the environment ("in prod?"), or the subject ("and
 * tax_report?", "the sales one?"). Undefined when the text is a question of its own (it
 * names a measure and a subject, or is long).
 */
export function parseFollowUp(input: string, previous: Frame, ctx: ParseContext): Parsed | undefined {
  const p = parseFrame(input, ctx);
  const text = clean(input);
  const content = words(text).filter((w) => !STOP.has(w) && !FILLER.has(w));
  const opener = FOLLOW_UP_OPENER.test(text);
  const hasSubject = p.frame.subject.kind !== "fleet" && p.frame.subject.kind !== "environment";
  const ownQuestion = !p.defaulted && hasSubject && !opener;
  if (ownQuestion || content.length > 6) return undefined;
  const frame: Frame = { ...previous };
  let changed = false;
  if (p.frame.window) {
    frame.window = p.frame.window;
    changed = true;
  }
  // "and the day before", "the week before": the previous window, moved back.
  const before = /\b(?:the )?(day|night|week) before\b/.exec(text);
  if (before && previous.window) {
    const shift = (before[1] === "week" ? 7 : 1) * 86_400_000;
    frame.window = {
      from: new Date(new Date(previous.window.from).getTime() - shift).toISOString(),
      to: new Date(new Date(previous.window.to).getTime() - shift).toISOString(),
    };
    changed = true;
  }
  const env =
    p.frame.environment ?? (p.frame.subject.kind === "environment" ? p.frame.subject.name : undefined);
  if (env) {
    frame.environment = env;
    changed = true;
  }
  // "what about acme", "and the finance one": a word of another name of the previous
  // subject's kind — the one sharing most words with the previous name, when just one does.
  const sameKind = [p.frame.subject, ...p.alternatives.map((a) => a.subject)].some(
    (s) => s.kind === previous.subject.kind,
  );
  const loose = !hasSubject ? p.unused : !sameKind ? content.filter((w) => !FOLLOW_UP_WORDS.has(w)) : [];
  if (previous.subject.name && loose.length === 1) {
    const w = loose[0]!;
    const prevWords = new Set(words(previous.subject.name));
    const fits = ctx.names.names
      .filter((n) => n.kind === previous.subject.kind && n.name !== previous.subject.name)
      .filter((n) => words(n.name).some((x) => stem(x) === stem(w)))
      .map((n) => ({ n, shared: words(n.name).filter((x) => prevWords.has(x)).length }))
      .sort((a, b) => b.shared - a.shared);
    if (fits.length && (fits.length === 1 || fits[0]!.shared > fits[1]!.shared)) {
      frame.subject = { kind: fits[0]!.n.kind, name: fits[0]!.n.name };
      changed = true;
    }
  }
  if (
    hasSubject &&
    !(changed && frame.subject !== previous.subject) &&
    (p.frame.subject.kind !== previous.subject.kind || p.frame.subject.name !== previous.subject.name)
  ) {
    // "the sales one" after a dataset question means the dataset called sales…, not the job.
    const same = [p.frame.subject, ...p.alternatives.map((a) => a.subject)].find(
      (s) => s.kind === previous.subject.kind,
    );
    frame.subject = same ?? p.frame.subject;
    changed = true;
  }
  // "and p95?", "is that more than usual": the same measure, another figure of it.
  const refers = opener || /\b(?:it|that|those|them|this|these)\b/.test(text);
  if (p.frame.stat && p.frame.stat !== previous.stat && (p.defaulted || refers || content.length <= 2)) {
    frame.stat = p.frame.stat;
    changed = true;
  }
  // "how about memory": the other figure of the same resources answer.
  if (
    previous.measure === "resources" &&
    p.frame.measure === "resources" &&
    p.frame.figure !== previous.figure
  ) {
    frame.figure = p.frame.figure!;
    changed = true;
  }
  // "per job?", "break it down by env": the same answer, grouped.
  if (p.frame.groupBy && p.frame.groupBy !== previous.groupBy && !hasSubject) {
    frame.groupBy = p.frame.groupBy;
    changed = true;
  }
  // "make it top 10", "just the worst 3": the same ranking, another length.
  if (p.frame.rank?.n && !hasSubject && (previous.rank || p.defaulted || refers)) {
    frame.rank = {
      order: previous.rank && !LEAST.test(text) ? previous.rank.order : p.frame.rank.order,
      n: p.frame.rank.n,
    };
    changed = true;
  }
  // "and when did it last fail", "how long did it take": another measure of the same
  // subject, said with a pronoun or an opener instead of its name.
  if (
    !hasSubject &&
    !p.defaulted &&
    /\b(?:it|that|those|them|this|these)\b/.test(text) &&
    !p.frame.groupBy &&
    p.frame.measure !== previous.measure
  ) {
    const next: Frame = { measure: p.frame.measure, subject: frame.subject };
    if (frame.window) next.window = frame.window;
    if (frame.environment) next.environment = frame.environment;
    for (const k of ["stat", "polarity", "rank", "groupBy", "figure"] as const)
      if (p.frame[k] !== undefined) Object.assign(next, { [k]: p.frame[k] });
    return {
      frame: next,
      confidence: 1,
      unused: [],
      alternatives: [],
      defaulted: false,
      subjectExact: true,
      ...(p.window ? { window: p.window } : {}),
    };
  }
  if (!changed) return undefined;
  const out: Parsed = {
    frame,
    confidence: 1,
    unused: [],
    alternatives: [],
    defaulted: false,
    subjectExact: p.subjectExact || !hasSubject,
  };
  if (p.window) out.window = p.window;
  return out;
}
