// PATCH bodies for alerts and incidents, checked as Defender's update-alert and update-incidents
// pages allow: which properties, which values, determinations per classification, and errors
// that name the property.
import { describe, expect, it } from 'vitest';
import {
  checkAlertPatch,
  checkIncidentPatch,
  detectionSources,
  graphEnumValue,
} from '../src/incidents/index.ts';

const unclassified = { classification: null } as const;
const truePositive = { classification: 'TruePositive' } as const;

describe('PATCH /api/alerts/{id}', () => {
  it('takes status, assignedTo, classification, determination and comment, in either spelling', () => {
    expect(
      checkAlertPatch(
        {
          Status: 'resolved',
          assignedTo: ' secop2@contoso.com ',
          classification: 'truePositive',
          Determination: 'CompromisedAccount',
          comment: 'Resolve my alert and assign to secop2',
        },
        unclassified,
      ),
    ).toEqual({
      value: {
        status: 'Resolved',
        assignedTo: 'secop2@contoso.com',
        classification: 'TruePositive',
        determination: 'CompromisedUser',
        comment: 'Resolve my alert and assign to secop2',
      },
      errors: [],
    });
  });

  it('takes a comment alone, and an empty body as no change', () => {
    expect(checkAlertPatch({ comment: 'looked at it' }, unclassified)).toEqual({
      value: { comment: 'looked at it' },
      errors: [],
    });
    expect(checkAlertPatch({}, unclassified)).toEqual({ value: {}, errors: [] });
  });

  it('names each property it refuses', () => {
    expect(
      checkAlertPatch(
        {
          title: 'renamed',
          tags: ['x'],
          status: 'Active',
          assignedTo: 5,
          classification: 'Maybe',
          comment: '  ',
        },
        unclassified,
      ).errors,
    ).toEqual([
      {
        code: 'incidents/not-updatable',
        property: 'title',
        message:
          'title cannot be updated; updatable: status, assignedTo, classification, determination, comment',
      },
      {
        code: 'incidents/not-updatable',
        property: 'tags',
        message:
          'tags cannot be updated; updatable: status, assignedTo, classification, determination, comment',
      },
      {
        code: 'incidents/bad-value',
        property: 'status',
        message: 'expected one of New, InProgress, Resolved, found "Active"',
      },
      {
        code: 'incidents/bad-type',
        property: 'assignedTo',
        message: 'expected a user name or null, found number 5',
      },
      {
        code: 'incidents/bad-value',
        property: 'classification',
        message: 'expected one of TruePositive, InformationalExpectedActivity, FalsePositive, found "Maybe"',
      },
      {
        code: 'incidents/bad-type',
        property: 'comment',
        message: 'expected a non-empty string, found string "  "',
      },
    ]);
  });

  it('refuses a body that is not an object, and a property given twice', () => {
    expect(checkAlertPatch(['Resolved'], unclassified).errors).toEqual([
      {
        code: 'incidents/not-an-object',
        property: '',
        message: 'expected a JSON object of properties, found a list ["Resolved"]',
      },
    ]);
    expect(checkAlertPatch({ status: 'Resolved', Status: 'New' }, unclassified).errors).toEqual([
      { code: 'incidents/bad-value', property: 'status', message: 'status is given twice (as Status too)' },
    ]);
  });

  it("refuses Unknown, which is read-only, and Graph's evolvable-enum placeholders", () => {
    expect(
      checkAlertPatch({ status: 'Unknown', classification: 'unknownFutureValue' }, unclassified).errors,
    ).toEqual([
      {
        code: 'incidents/bad-value',
        property: 'status',
        message: 'status Unknown means "not set" and is read-only; expected one of New, InProgress, Resolved',
      },
      {
        code: 'incidents/bad-value',
        property: 'classification',
        message:
          "classification unknownFutureValue is Graph's evolvable-enum placeholder and cannot be set; expected one of TruePositive, InformationalExpectedActivity, FalsePositive",
      },
    ]);
  });

  it('checks a determination against the classification sent, or the one the alert has', () => {
    expect(
      checkAlertPatch({ classification: 'FalsePositive', determination: 'Malware' }, truePositive).errors,
    ).toEqual([
      {
        code: 'incidents/determination-mismatch',
        property: 'determination',
        message:
          'expected for classification FalsePositive one of Clean, InsufficientData, Other, found "Malware"',
      },
    ]);
    expect(checkAlertPatch({ determination: 'Malware' }, unclassified).errors).toEqual([
      {
        code: 'incidents/determination-mismatch',
        property: 'determination',
        message: 'a determination needs a classification: send classification in the same request',
      },
    ]);
    expect(checkAlertPatch({ determination: 'malware' }, truePositive)).toEqual({
      value: { determination: 'Malware' },
      errors: [],
    });
    // The update pages' names for the Alert resource's NotMalicious → Clean, ConfirmedActivity → ConfirmedUserActivity.
    expect(
      checkAlertPatch({ classification: 'FalsePositive', determination: 'NotMalicious' }, unclassified).value,
    ).toEqual({ classification: 'FalsePositive', determination: 'Clean' });
    expect(
      checkAlertPatch(
        { classification: 'InformationalExpectedActivity', determination: 'ConfirmedActivity' },
        unclassified,
      ).value,
    ).toEqual({ classification: 'InformationalExpectedActivity', determination: 'ConfirmedUserActivity' });
  });

  it('refuses the determinations withdrawn in 2022', () => {
    expect(
      checkAlertPatch({ classification: 'TruePositive', determination: 'Apt' }, unclassified).errors,
    ).toEqual([
      {
        code: 'incidents/deprecated-value',
        property: 'determination',
        message:
          'determination Apt was withdrawn in August 2022; use one of the values for the classification',
      },
    ]);
  });

  it('clears the determination when only the classification changes', () => {
    expect(checkAlertPatch({ classification: 'FalsePositive' }, truePositive).value).toEqual({
      classification: 'FalsePositive',
      determination: null,
    });
    expect(checkAlertPatch({ classification: 'TruePositive' }, truePositive).value).toEqual({
      classification: 'TruePositive',
    });
  });
});

describe('PATCH /api/incidents/{id}', () => {
  it('takes the update page example, tags included', () => {
    expect(
      checkIncidentPatch(
        {
          status: 'Resolved',
          assignedTo: 'secop2@contoso.com',
          classification: 'TruePositive',
          determination: 'Malware',
          tags: ["Yossi's playground", "Don't mess with the Zohan"],
          comment: 'pen testing',
        },
        unclassified,
      ),
    ).toEqual({
      value: {
        status: 'Resolved',
        assignedTo: 'secop2@contoso.com',
        classification: 'TruePositive',
        determination: 'Malware',
        tags: ["Yossi's playground", "Don't mess with the Zohan"],
        comment: 'pen testing',
      },
      errors: [],
    });
  });

  it('sets Active and InProgress, leaves Redirected to merges, and checks tags', () => {
    expect(checkIncidentPatch({ status: 'inprogress' }, unclassified).value).toEqual({
      status: 'InProgress',
    });
    expect(
      checkIncidentPatch({ status: 'Redirected', tags: ['ok', 3], severity: 'High' }, unclassified).errors,
    ).toEqual([
      {
        code: 'incidents/not-updatable',
        property: 'severity',
        message:
          'severity cannot be updated; updatable: status, assignedTo, classification, determination, tags, comment',
      },
      {
        code: 'incidents/bad-value',
        property: 'status',
        message: 'status Redirected is set by merging incidents, not by an update',
      },
      {
        code: 'incidents/bad-type',
        property: 'tags',
        message: 'expected a list of non-empty strings, found a list ["ok",3]',
      },
    ]);
  });
});

describe("Graph's evolvable enums", () => {
  it('read members after unknownFutureValue as unknownFutureValue unless the client asks for them', () => {
    expect(graphEnumValue(detectionSources, 'microsoftDefenderForIdentity', false)).toBe(
      'microsoftDefenderForIdentity',
    );
    expect(graphEnumValue(detectionSources, 'microsoftDefenderForServers', false)).toBe('unknownFutureValue');
    expect(graphEnumValue(detectionSources, 'microsoftDefenderForServers', true)).toBe(
      'microsoftDefenderForServers',
    );
  });
});
