using System.Text.Json;

namespace Platform.Tests.Integration.Impact;

/// <summary>Cohort, retention-funnel and segment views through the API, on data whose figures are worked out by hand below.</summary>
public sealed class ImpactAnalyticsTests(ImpactFixture fx) : IClassFixture<ImpactFixture>
{
    [Fact]
    public async Task Cohorts_funnel_and_segments_have_the_hand_computed_figures()
    {
        var tenant = await fx.CreateTenantAsync("analytics");
        var company = await fx.CreateCompanyAsync(tenant.ApiKey, "analytics corp");
        await fx.ImportAsync(tenant.ApiKey, company, "participants", """
            source,external_id,role,name,email,program,enrolled_at
            buddy,p1,participant,Ada One,p1@example.org,buddy,2026-01-05
            buddy,p2,participant,Ben Two,p2@example.org,language,2026-01-20
            buddy,p3,participant,Cy Three,p3@example.org,buddy,2026-02-03
            buddy,p4,participant,Di Four,p4@example.org,language,2026-02-10
            buddy,p5,participant,Ed Five,p5@example.org,buddy,2025-12-15
            buddy,v1,volunteer,Vi Lunteer,v1@example.org,buddy,2025-11-01
            """);
        await fx.ImportAsync(tenant.ApiKey, company, "sessions", """
            source,session_id,program,participant_id,volunteer_id,date,minutes
            buddy,s1,buddy,p1,v1,2026-01-10,60
            buddy,s2,buddy,p1,v1,2026-02-10,90
            buddy,s3,buddy,p1,v1,2026-03-05,30
            buddy,s4,language,p2,v1,2026-01-25,45
            buddy,s5,buddy,p3,v1,2026-02-04,60
            buddy,s6,buddy,p3,v1,2026-02-20,60
            buddy,s7,buddy,p5,v1,2026-01-15,60
            buddy,s8,language,p2,v1,2026-04-02,60
            """);
        await fx.ImportAsync(tenant.ApiKey, company, "courses", """
            source,record_id,participant_id,course,progress,completed_at,credential
            buddy,c1,p1,Norwegian A1,1,2026-03-20,A1
            buddy,c2,p3,Spreadsheets,0.5,,
            """);

        var response = await fx.Client(tenant.ApiKey).GetAsync($"/v1/impact/companies/{company}/analytics?period=2026-Q1");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var a = JsonDocument.Parse(body).RootElement;

        // The Q1 cohort is p1..p4 (p5 enrolled in December). January: p1, p2; February: p3, p4; March: nobody.
        var cohorts = a.GetProperty("cohorts");
        Assert.Equal(3, cohorts.GetArrayLength());
        (int Size, (int Active, double Rate)[] Points)[] expected =
        [
            (2, [(2, 1.0), (1, 0.5), (1, 0.5)]),   // Jan: both active in Jan (s1, s4); p1 in Feb (s2) and Mar (s3)
            (2, [(1, 0.5), (0, 0.0)]),             // Feb: p3 in Feb (s5, s6); nobody in Mar
            (0, [(0, 0.0)]),
        ];
        for (var i = 0; i < expected.Length; i++)
        {
            var c = cohorts[i];
            Assert.Equal(new DateOnly(2026, 1 + i, 1), DateOnly.Parse(c.GetProperty("month").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(expected[i].Size, c.GetProperty("size").GetInt32());
            var points = c.GetProperty("retention").EnumerateArray().Select(p => (p.GetProperty("active").GetInt32(), p.GetProperty("rate").GetDouble())).ToArray();
            Assert.Equal(expected[i].Points, points);
        }

        // Funnel over the 4: attended p1 p2 p3; two or more sessions p1 (3) p3 (2) — s8 is after the period;
        // sessions in two months p1 only (p3's are both in February); completed a course p1.
        var funnel = a.GetProperty("funnel").EnumerateArray()
            .Select(s => (s.GetProperty("step").GetString(), s.GetProperty("participants").GetInt32(), s.GetProperty("ofEnrolled").GetDouble(), s.GetProperty("ofPrevious").GetDouble()))
            .ToArray();
        (string?, int, double, double)[] expectedFunnel =
        [
            ("enrolled", 4, 1.0, 1.0), ("attended", 3, 0.75, 0.75), ("returned", 2, 0.5, 0.667), ("retained", 1, 0.25, 0.5), ("completed_course", 1, 0.25, 1.0),
        ];
        Assert.Equal(expectedFunnel, funnel);

        // Segments by the program of the first enrollment. buddy: p1 + p3, sessions 3 + 2 = 5, minutes 60+90+30+60+60 = 300 = 5 h,
        // 2.5 per participant, retained p1 = 1 of 2. language: p2 + p4, one session (s4, 45 min = 0.75 h), 0.5 per participant, none retained.
        Assert.Equal("program", a.GetProperty("segmentBy").GetString());
        var segments = a.GetProperty("segments").EnumerateArray().Select(s => (s.GetProperty("segment").GetString(), s.GetProperty("participants").GetInt32(),
            s.GetProperty("attended").GetInt32(), s.GetProperty("sessions").GetInt32(), s.GetProperty("sessionHours").GetDecimal(),
            s.GetProperty("sessionsPerParticipant").GetDouble(), s.GetProperty("activeTwoMonths").GetInt32(), s.GetProperty("retentionRate").GetDouble())).ToArray();
        (string?, int, int, int, decimal, double, int, double)[] expectedSegments = [("buddy", 2, 2, 5, 5.00m, 2.5, 1, 0.5), ("language", 2, 1, 1, 0.75m, 0.5, 0, 0.0)];
        Assert.Equal(expectedSegments, segments);

        // Bad input is a problem; another tenant does not see the company.
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Client(tenant.ApiKey).GetAsync($"/v1/impact/companies/{company}/analytics?period=soon")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Client(tenant.ApiKey).GetAsync($"/v1/impact/companies/{company}/analytics?period=2026&segmentBy=team")).StatusCode);
        var other = await fx.CreateTenantAsync("analytics-other");
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(other.ApiKey).GetAsync($"/v1/impact/companies/{company}/analytics?period=2026-Q1")).StatusCode);
    }
}
