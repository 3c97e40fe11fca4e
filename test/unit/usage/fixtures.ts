/** Usage API bodies in both shapes (usage-apis.md §1). */
export const CLASSIC = {
  five_hour: { utilization: 19.0, resets_at: '2025-11-25T22:00:00.288792+00:00' },
  seven_day: { utilization: 7.0, resets_at: '2025-12-01T21:00:00.288804+00:00' },
  seven_day_oauth_apps: { utilization: 0.0, resets_at: null },
  seven_day_opus: { utilization: 33.5, resets_at: '2025-12-01T21:00:00.288804+00:00' },
  seven_day_sonnet: null,
  iguana_necktie: null,
  extra_usage: { is_enabled: true, monthly_limit: 10000, used_credits: 500, utilization: 5.0, currency: 'USD' },
};

export const LIMITS = {
  five_hour: { utilization: 10, resets_at: '2026-09-01T15:00:00Z' },
  seven_day: { utilization: 20, resets_at: '2026-09-05T09:00:00Z' },
  seven_day_sonnet: null,
  limits: [
    { kind: 'session', group: 'session', percent: 10, severity: 'normal', resets_at: '2026-09-01T15:00:00Z' },
    { kind: 'weekly_all', group: 'weekly', percent: 20, resets_at: '2026-09-05T09:00:00Z' },
    { kind: 'weekly_scoped', group: 'weekly', percent: 7, resets_at: '2026-09-05T09:00:00Z', scope: { model: { id: null, display_name: 'Fable' }, surface: null }, is_active: true },
    { kind: 'weekly_scoped', group: 'weekly', percent: 99, resets_at: '2026-09-05T09:00:00Z', scope: { model: { id: 'old-model' } }, is_active: false },
  ],
  spend: { used: { amount_minor: 1234, currency: 'USD', exponent: 2 }, percent: 12, enabled: true },
  extra_usage: { is_enabled: false, monthly_limit: null, used_credits: null, utilization: null },
};
