// Writes tcf.json and gpp.json: consent strings encoded by the IAB reference libraries from
// seeded random models, each with the value the reference library decodes from it, using Keel's
// snake_case field names. Run through generate-vectors.sh, which installs the libraries.
'use strict';
const fs = require('fs');
const path = require('path');

const outDir = process.argv[2];
const modules = path.join(outDir, 'npm', 'node_modules');
const tcf = require(path.join(modules, '@iabtcf/core'));
const gppEnc = path.join(modules, '@iabgpp/cmpapi/lib/cjs/encoder');
const { GppModel } = require(path.join(gppEnc, 'GppModel.js'));
const segments = require(path.join(gppEnc, 'segment/index.js'));

// mulberry32: small seeded generator so the vectors are reproducible.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20261122);
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const chance = (p) => rand() < p;
const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const lang = () => letters[int(0, 25)] + letters[int(0, 25)];
const idSet = (max, density) => {
  const out = [];
  for (let i = 1; i <= max; i++) if (chance(density)) out.push(i);
  return out;
};
// Runs of consecutive ids make range encoding the shorter form.
const runs = (max) => {
  const out = [];
  let i = int(1, 20);
  while (i <= max) {
    const len = int(1, 60);
    for (let j = i; j < i + len && j <= max; j++) out.push(j);
    i += len + int(1, 400);
  }
  return out;
};
const date = () => new Date(Math.round(int(1577836800, 1798761600) * 10 + int(0, 9)) * 100);
const bits = (n, p) => idSet(n, p);
const sorted = (a) => [...a].sort((x, y) => x - y);

// ---------------------------------------------------------------- TCF v2.2 (@iabtcf/core)
// The model reports the vendor list's version and policy version once a GVL is attached.
function gvlFor(maxVendor, vendorListVersion, tcfPolicyVersion) {
  const vendors = {};
  for (let id = 1; id <= maxVendor; id++) {
    vendors[id] = {
      id, name: `v${id}`, purposes: [1, 2, 3], legIntPurposes: [2, 7], flexiblePurposes: [2, 7],
      specialPurposes: [], features: [], specialFeatures: [], policyUrl: 'https://example.com',
    };
  }
  const named = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [i + 1, { id: i + 1, name: `p${i + 1}`, description: '' }]));
  return new tcf.GVL({
    gvlSpecificationVersion: 3, vendorListVersion, tcfPolicyVersion,
    lastUpdated: '2024-01-01T00:00:00Z', purposes: named(11), specialPurposes: named(3),
    features: named(3), specialFeatures: named(2), stacks: {}, dataCategories: {}, vendors,
  });
}

function tcfVector(i) {
  const m = new tcf.TCModel();
  const shape = i % 4;
  const maxVendor = [40, 900, 3000, 12][shape];
  m.gvl = gvlFor(maxVendor, int(1, 4095), int(2, 5));
  m.created = date();
  m.lastUpdated = date();
  m.cmpId = int(2, 4095);
  m.cmpVersion = int(0, 4095);
  m.consentScreen = int(0, 63);
  m.consentLanguage = ['EN', 'DE', 'FR', 'NL', 'PT', 'IT'][int(0, 5)];
  m.isServiceSpecific = chance(0.5);
  m.useNonStandardStacks = chance(0.3);
  m.purposeOneTreatment = chance(0.2);
  m.publisherCountryCode = lang();
  m.specialFeatureOptins.set(bits(12, 0.4));
  m.purposeConsents.set(bits(24, 0.5));
  m.purposeLegitimateInterests.set(bits(24, 0.3));
  const vendorIds = shape === 1 || shape === 2 ? runs(maxVendor) : idSet(maxVendor, 0.4);
  m.vendorConsents.set(vendorIds);
  m.vendorLegitimateInterests.set(shape === 2 ? runs(maxVendor) : idSet(maxVendor, 0.2));
  if (chance(0.6)) {
    const types = [tcf.RestrictionType.NOT_ALLOWED, tcf.RestrictionType.REQUIRE_CONSENT, tcf.RestrictionType.REQUIRE_LI];
    for (let r = 0; r < int(1, 4); r++) {
      const pr = new tcf.PurposeRestriction(int(1, 11), types[int(0, 2)]);
      for (const v of idSet(Math.min(maxVendor, 200), 0.1)) m.publisherRestrictions.add(v, pr);
    }
  }
  const parts = [tcf.SegmentEncoder.encode(m, tcf.Segment.CORE)];
  if (chance(0.5)) {
    m.vendorsDisclosed.set(shape === 2 ? runs(maxVendor) : idSet(maxVendor, 0.5));
    parts.push(tcf.SegmentEncoder.encode(m, tcf.Segment.VENDORS_DISCLOSED));
  }
  if (chance(0.5)) {
    m.publisherConsents.set(bits(24, 0.5));
    m.publisherLegitimateInterests.set(bits(24, 0.3));
    m.numCustomPurposes = int(0, 10);
    m.publisherCustomConsents.set(bits(m.numCustomPurposes, 0.5));
    m.publisherCustomLegitimateInterests.set(bits(m.numCustomPurposes, 0.5));
    parts.push(tcf.SegmentEncoder.encode(m, tcf.Segment.PUBLISHER_TC));
  }
  const string = parts.join('.');
  return { name: `tcf-${i}`, string, expected: tcfExpected(string) };
}

const vec = (v) => { const out = []; v.forEach((has, id) => { if (has) out.push(id); }); return sorted(out); };
const restrictionName = ['not_allowed', 'require_consent', 'require_legitimate_interest'];

function tcfExpected(string) {
  const d = tcf.TCString.decode(string);
  const segmentTypes = string.split('.').slice(1).map((s) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(s[0]) >> 3);
  const restrictions = d.publisherRestrictions.getRestrictions().map((r) => ({
    purpose_id: r.purposeId,
    restriction_type: restrictionName[r.restrictionType],
    vendor_ids: sorted(d.publisherRestrictions.getVendors(r)),
  })).sort((a, b) => a.purpose_id - b.purpose_id || restrictionName.indexOf(a.restriction_type) - restrictionName.indexOf(b.restriction_type));
  const out = {
    version: d.version,
    created: d.created.toISOString(),
    last_updated: d.lastUpdated.toISOString(),
    cmp_id: d.cmpId,
    cmp_version: d.cmpVersion,
    consent_screen: d.consentScreen,
    consent_language: d.consentLanguage.toUpperCase(),
    vendor_list_version: d.vendorListVersion,
    tcf_policy_version: d.policyVersion,
    is_service_specific: d.isServiceSpecific,
    use_non_standard_texts: d.useNonStandardStacks,
    special_feature_optins: vec(d.specialFeatureOptins),
    purpose_consents: vec(d.purposeConsents),
    purpose_legitimate_interests: vec(d.purposeLegitimateInterests),
    purpose_one_treatment: d.purposeOneTreatment,
    publisher_country_code: d.publisherCountryCode,
    vendor_consents: vec(d.vendorConsents),
    vendor_legitimate_interests: vec(d.vendorLegitimateInterests),
    publisher_restrictions: restrictions,
  };
  if (segmentTypes.includes(1)) out.disclosed_vendors = vec(d.vendorsDisclosed);
  if (segmentTypes.includes(3)) {
    out.publisher_tc = {
      purpose_consents: vec(d.publisherConsents),
      purpose_legitimate_interests: vec(d.publisherLegitimateInterests),
      num_custom_purposes: d.numCustomPurposes,
      custom_purpose_consents: vec(d.publisherCustomConsents),
      custom_purpose_legitimate_interests: vec(d.publisherCustomLegitimateInterests),
    };
  }
  return out;
}

// ---------------------------------------------------------------- GPP (@iabgpp/cmpapi)
const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const US_SECTIONS = {
  usnat: ['UsNatCoreSegment', 'UsNatGpcSegment'],
  usca: ['UsCaCoreSegment', 'UsCaGpcSegment'],
  usva: ['UsVaCoreSegment', null],
  usco: ['UsCoCoreSegment', 'UsCoGpcSegment'],
  usut: ['UsUtCoreSegment', null],
  usct: ['UsCtCoreSegment', 'UsCtGpcSegment'],
};
const coreFields = (name) => new segments[US_SECTIONS[name][0]]().getFieldNames();

function randomUsSection(model, name) {
  const fields = new segments[US_SECTIONS[name][0]]().fields;
  for (const f of coreFields(name)) {
    if (f === 'Version') continue;
    const enc = fields.get(f);
    if (f === 'MspaCoveredTransaction') model.setFieldValue(name, f, int(1, 2));
    else if (Array.isArray(enc.value)) model.setFieldValue(name, f, enc.value.map(() => int(0, 2)));
    else model.setFieldValue(name, f, int(0, 2));
  }
  if (name === 'usnat' && chance(0.3)) model.setFieldValue(name, 'Version', 1);
  if (US_SECTIONS[name][1]) {
    const included = chance(0.6);
    model.setFieldValue(name, 'GpcSegmentIncluded', included);
    if (included) model.setFieldValue(name, 'Gpc', chance(0.5));
  }
}

function usExpected(model, name, sectionString) {
  const out = {};
  for (const f of coreFields(name)) out[snake(f)] = model.getFieldValue(name, f);
  if (US_SECTIONS[name][1] && sectionString.includes('.')) out.gpc = model.getFieldValue(name, 'Gpc');
  return out;
}

function randomTcfSection(model) {
  const set = (f, v) => model.setFieldValue('tcfeuv2', f, v);
  const boolArray = (n, p) => Array.from({ length: n }, () => chance(p));
  set('CmpId', int(2, 4095));
  set('CmpVersion', int(0, 4095));
  set('ConsentScreen', int(0, 63));
  set('ConsentLanguage', ['EN', 'DE', 'FR'][int(0, 2)]);
  set('VendorListVersion', int(1, 4095));
  set('PolicyVersion', int(2, 5));
  set('IsServiceSpecific', true);
  set('UseNonStandardStacks', chance(0.3));
  set('SpecialFeatureOptins', boolArray(12, 0.4));
  set('PurposeConsents', boolArray(24, 0.5));
  set('PurposeLegitimateInterests', boolArray(24, 0.3));
  set('PurposeOneTreatment', chance(0.2));
  set('PublisherCountryCode', lang());
  set('VendorConsents', chance(0.5) ? runs(2000) : idSet(300, 0.3));
  set('VendorLegitimateInterests', idSet(200, 0.2));
  set('VendorsDisclosed', idSet(200, 0.5));
  set('PublisherConsents', boolArray(24, 0.5));
  set('PublisherLegitimateInterests', boolArray(24, 0.3));
  const custom = int(0, 8);
  set('NumCustomPurposes', custom);
  set('PublisherCustomConsents', boolArray(custom, 0.5));
  set('PublisherCustomLegitimateInterests', boolArray(custom, 0.5));
  // Setting Created last pins both stamps (the library otherwise stamps today's date).
  const d = new Date(Date.UTC(2020 + int(0, 6), int(0, 11), int(1, 28)));
  set('Created', d);
}

function tcfSectionExpected(model, sectionString) {
  const g = (f) => model.getFieldValue('tcfeuv2', f);
  const ids = (a) => a.flatMap((has, i) => (has ? [i + 1] : []));
  const segmentTypes = sectionString.split('.').slice(1).map((s) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(s[0]) >> 3);
  const out = {
    version: g('Version'),
    created: g('Created').toISOString(),
    last_updated: g('LastUpdated').toISOString(),
    cmp_id: g('CmpId'),
    cmp_version: g('CmpVersion'),
    consent_screen: g('ConsentScreen'),
    consent_language: g('ConsentLanguage'),
    vendor_list_version: g('VendorListVersion'),
    tcf_policy_version: g('PolicyVersion'),
    is_service_specific: g('IsServiceSpecific'),
    use_non_standard_texts: g('UseNonStandardStacks'),
    special_feature_optins: ids(g('SpecialFeatureOptins')),
    purpose_consents: ids(g('PurposeConsents')),
    purpose_legitimate_interests: ids(g('PurposeLegitimateInterests')),
    purpose_one_treatment: g('PurposeOneTreatment'),
    publisher_country_code: g('PublisherCountryCode'),
    vendor_consents: sorted(g('VendorConsents')),
    vendor_legitimate_interests: sorted(g('VendorLegitimateInterests')),
    publisher_restrictions: g('PublisherRestrictions').map((r) => ({
      purpose_id: r.key, restriction_type: restrictionName[r.type], vendor_ids: sorted(r.ids),
    })),
  };
  if (segmentTypes.includes(1)) out.disclosed_vendors = sorted(g('VendorsDisclosed'));
  if (segmentTypes.includes(2)) out.allowed_vendors = sorted(g('VendorsAllowed'));
  if (segmentTypes.includes(3)) {
    out.publisher_tc = {
      purpose_consents: ids(g('PublisherConsents')),
      purpose_legitimate_interests: ids(g('PublisherLegitimateInterests')),
      num_custom_purposes: g('NumCustomPurposes'),
      custom_purpose_consents: ids(g('PublisherCustomConsents')),
      custom_purpose_legitimate_interests: ids(g('PublisherCustomLegitimateInterests')),
    };
  }
  return out;
}

function gppVector(i) {
  const names = ['tcfeuv2', ...Object.keys(US_SECTIONS)];
  const chosen = names.filter(() => chance(0.35));
  if (chosen.length === 0) chosen.push(names[i % names.length]);
  const model = new GppModel();
  for (const name of chosen) {
    if (name === 'tcfeuv2') randomTcfSection(model);
    else randomUsSection(model, name);
  }
  const string = model.encode();
  const decoded = new GppModel(string);
  const parts = string.split('~');
  const sectionIds = decoded.getSectionIds();
  const expected = { header: { version: 1, section_ids: sectionIds }, sections: {} };
  const idToName = { 2: 'tcfeuv2', 7: 'usnat', 8: 'usca', 9: 'usva', 10: 'usco', 11: 'usut', 12: 'usct' };
  sectionIds.forEach((id, k) => {
    const name = idToName[id];
    expected.sections[name] = name === 'tcfeuv2'
      ? tcfSectionExpected(decoded, parts[k + 1])
      : usExpected(decoded, name, parts[k + 1]);
  });
  return { name: `gpp-${i}`, string, expected };
}

const tcfVectors = Array.from({ length: 60 }, (_, i) => tcfVector(i));
const gppVectors = Array.from({ length: 60 }, (_, i) => gppVector(i));
// One vector per line keeps the files small and their diffs readable.
const write = (file, vectors) => fs.writeFileSync(path.join(outDir, file), '[\n' + vectors.map((v) => JSON.stringify(v)).join(',\n') + '\n]\n');
write('tcf.json', tcfVectors);
write('gpp.json', gppVectors);
